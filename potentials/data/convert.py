"""Convert between structure files: anything ASE reads, H5MD, and HDF5 trajectories.

Input kinds are told apart by content: an HDF5 file whose root ``format`` attribute is ours, an
HDF5 file with ``h5md`` and ``particles`` groups (H5MD), else any file ``ase.io.read`` reads.
The output is an HDF5 trajectory if its suffix is ``.h5``/``.hdf5``, else whatever
``ase.io.write`` writes for its name. Outputs are written to a temporary sibling and moved into
place at the end, so a failed conversion leaves nothing at the output path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import ase.io
import ase.io.formats
import h5py
import numpy as np
from tqdm import tqdm

from potentials.data.ase_frames import frame_to_atoms, read_ase_frames
from potentials.data.errors import DataFormatError
from potentials.data.frame import Frame
from potentials.data.h5md import is_h5md, read_h5md_frames
from potentials.data.output import ase_output_format, prepare_output
from potentials.data.reader import TrajectoryFile, open_hdf5
from potentials.data.writer import TrajectoryWriter, temporary_sibling

HDF5_SUFFIXES: tuple[str, ...] = (".h5", ".hdf5", ".hdf")
"""Output suffixes written as HDF5 trajectories."""


@dataclass(frozen=True)
class ReadOptions:
    """How to read inputs: label keys for ASE inputs, elements for H5MD inputs."""

    energy_key: str | None = None
    forces_key: str | None = None
    stress_key: str | None = None
    species: np.ndarray | None = None


def input_kind(path: str | os.PathLike[str]) -> str:
    """``"potentials"``, ``"h5md"`` or ``"ase"``: how ``path`` is read, judged by content."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFormatError(path, "no such file")
    if not h5py.is_hdf5(path):
        return "ase"
    with open_hdf5(path) as file:
        try:
            if is_h5md(file):
                return "h5md"
            if "format" in file.attrs:
                return "potentials"
        except (OSError, KeyError, RuntimeError) as error:
            raise DataFormatError(path, f"corrupt HDF5 structure: {error}") from None
    raise DataFormatError(path, "HDF5 file that is neither a potentials trajectory (root "
                          "attribute 'format') nor H5MD (groups 'h5md' and 'particles')")


def _potentials_trajectories(path: str) -> Iterator[tuple[str, Iterator[Frame], int]]:
    with TrajectoryFile(path) as file:
        for name, n_frames in file.trajectory_lengths().items():
            yield name, file.iter_frames(name), n_frames


def read_trajectories(
    path: str | os.PathLike[str], options: ReadOptions = ReadOptions()
) -> Iterator[tuple[str, Iterator[Frame], int | None]]:
    """(name, frames, frame count or None) of each trajectory in ``path``, streamed.

    An ASE or H5MD input is one trajectory named after the file's stem; an HDF5 trajectory file
    gives each of its trajectories under its own name.
    """
    path = os.fspath(path)
    kind, stem = input_kind(path), Path(path).stem
    if kind == "potentials":
        yield from _potentials_trajectories(path)
    elif kind == "h5md":
        yield stem, read_h5md_frames(path, species=options.species), None
    else:
        yield stem, read_ase_frames(path, options.energy_key, options.forces_key,
                                    options.stress_key), None


def _unique(name: str, used: set[str]) -> str:
    candidate, k = name, 2
    while candidate in used:
        candidate, k = f"{name}_{k}", k + 1
    used.add(candidate)
    return candidate


def _progress(frames: Iterable[Frame], name: str, total: int | None, show: bool
              ) -> Iterable[Frame]:
    return tqdm(frames, desc=name, total=total, unit=" frames", disable=not show or None,
                leave=False)


def _write_hdf5(inputs: Sequence[str], output: Path, options: ReadOptions,
                names: Sequence[str] | None, overwrite: bool, show: bool) -> int:
    written, used = 0, set()
    with TrajectoryWriter(output, overwrite=overwrite) as writer:
        for k, path in enumerate(inputs):
            for name, frames, total in read_trajectories(path, options):
                name = _unique(name if names is None else names[k], used)
                written += writer.add_trajectory(name, _progress(frames, name, total, show),
                                                 source=path)
    return written


def _write_ase(inputs: Sequence[str], output: Path, options: ReadOptions, show: bool) -> int:
    format_name = ase_output_format(output, trajectory=False)
    single = ase.io.formats.ioformats[format_name].single
    count = [0]

    def images() -> Iterator[ase.Atoms]:
        for path in inputs:
            for name, frames, total in read_trajectories(path, options):
                for frame in _progress(frames, name, total, show):
                    count[0] += 1
                    yield frame_to_atoms(frame)

    temporary = temporary_sibling(output)
    try:
        ase.io.write(temporary, list(images()) if single else images(), format=format_name)
        os.replace(temporary, output)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return count[0]


def convert(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    options: ReadOptions = ReadOptions(),
    trajectory_names: Sequence[str] | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> int:
    """Convert ``inputs`` into one ``output`` file; return the number of frames written.

    Parameters
    ----------
    inputs
        Files ASE reads, H5MD files or HDF5 trajectory files, in order.
    output
        ``.h5``/``.hdf5``: an HDF5 trajectory file with one trajectory per input trajectory.
        Anything else: written by ``ase.io.write``, all frames in order.
    options
        Label keys and species, see `ReadOptions`.
    trajectory_names
        One name per input for HDF5 output (default: each input's stem); clashes get
        ``_2``, ``_3`` ... appended.
    overwrite
        Replace an existing output; otherwise an existing output is an error, raised before
        any input is read.
    progress
        Show tqdm progress bars (on a terminal only).
    """
    inputs = [os.fspath(path) for path in inputs]
    output = Path(output)
    if not inputs:
        raise ValueError("no input files")
    prepare_output(output, overwrite)
    for path in inputs:
        if not os.path.isfile(path):
            raise DataFormatError(path, "no such file")
        if os.path.abspath(path) == os.path.abspath(output):
            raise DataFormatError(path, "input and output are the same file")
    if trajectory_names is not None and len(trajectory_names) != len(inputs):
        raise ValueError(f"{len(trajectory_names)} trajectory names for {len(inputs)} inputs")
    if output.suffix.lower() in HDF5_SUFFIXES:
        return _write_hdf5(inputs, output, options, trajectory_names, overwrite, progress)
    return _write_ase(inputs, output, options, progress)
