"""`refuse_existing`: the one check made before any output file is written."""

from __future__ import annotations

import os


def refuse_existing(path: str | os.PathLike[str], overwrite: bool) -> None:
    """Raise `FileExistsError` if ``path`` exists, unless ``overwrite`` allows replacing it.

    Raises
    ------
    FileExistsError
        Naming ``path`` and the ``--overwrite`` option (``overwrite=True`` in Python).
    """
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{os.fspath(path)}: output exists; pass --overwrite "
                              "(overwrite=True) to replace it")
