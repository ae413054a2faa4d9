"""Checks made before any output file is written: it must not exist, its format must be known,
its directory is created."""

from __future__ import annotations

import os

import ase.io.formats


def prepare_output(path: str | os.PathLike[str], overwrite: bool) -> None:
    """Check that ``path`` may be written and create its directory if missing.

    Called before any work, so that a long run cannot end in a refusal to write its result.

    Raises
    ------
    FileExistsError
        Naming ``path`` and the ``--overwrite`` option (``overwrite=True`` in Python), if
        ``path`` exists and ``overwrite`` is false.
    OSError
        If its directory cannot be created (say, a file has its name).
    """
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{os.fspath(path)}: output exists; pass --overwrite "
                              "(overwrite=True) to replace it")
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)


def ase_output_format(path: str | os.PathLike[str], trajectory: bool) -> str:
    """The ``ase.io.write`` format that ``path``'s name implies, checked before any work.

    With ``trajectory`` the format must hold a sequence of frames.

    Raises
    ------
    ValueError
        Naming ``path`` when ASE cannot tell a format from it or the format holds one frame
        where many are written.
    """
    name = os.fspath(path)
    try:
        format_name = ase.io.formats.filetype(name, read=False)
        single = ase.io.formats.ioformats[format_name].single
    except (KeyError, ValueError) as error:
        raise ValueError(f"{name}: cannot tell the output format from the name ({error}); "
                         f"use .h5, .xyz, .traj or another name ase.io.write knows") from None
    if trajectory and single:
        raise ValueError(f"{name}: the {format_name} format holds one frame; use .h5, .xyz "
                         f"or .traj for a trajectory")
    return format_name
