"""`DataFormatError`: the one exception raised for bad input data, naming file, frame and field."""

from __future__ import annotations

import os


class DataFormatError(ValueError):
    """Input data that cannot be read or written as asked.

    The message names the file, and where known the frame (0-based, counted within that file)
    and the field, so that a user can find the offending value.

    Parameters
    ----------
    path
        The file the problem is in.
    problem
        What is wrong, in one sentence without a trailing full stop.
    frame
        Index of the offending frame in that file, if the problem belongs to one frame.
    field
        Name of the offending field (``"forces"``, ``"energy"``, a dataset path ...), if any.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        problem: str,
        frame: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        self.frame = frame
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = [self.path]
        if self.frame is not None:
            where.append(f"frame {self.frame}")
        if self.field is not None:
            where.append(f"field '{self.field}'")
        return ": ".join(where) + f": {self.problem}"
