"""`TrajectoryFile`: random access to the frames of an HDF5 trajectory file.

Opening a file reads only its attributes, dataset shapes and the small ``frame_offsets``
index of each trajectory. Reading frame ``i`` then reads just the rows of frame ``i`` from each
dataset (HDF5 decompresses the chunks those rows live in), never the whole file.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from types import TracebackType

import ase
import h5py
import numpy as np

from potentials.data import hdf5_format as fmt
from potentials.data.ase_frames import frame_to_atoms
from potentials.data.errors import DataFormatError
from potentials.data.frame import Frame

CHUNK_CACHE_BYTES: int = 4 * 2**20
"""HDF5 chunk cache per open dataset: holds many decompressed chunks for random access."""


def open_hdf5(path: str | os.PathLike[str]) -> h5py.File:
    """Open ``path`` read-only, turning HDF5's errors for bad files into `DataFormatError`."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFormatError(path, "no such file")
    try:
        return h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES)
    except OSError as error:
        raise DataFormatError(path, f"not a readable HDF5 file (corrupt or truncated?): "
                              f"{error}") from None


class TrajectoryFile:
    """Frames of all trajectories in one HDF5 file, indexed globally in trajectory order.

    Trajectories follow the iteration order of ``/trajectories`` (creation order when the
    group tracks it, as our writer's does; otherwise alphabetical). Indexing gives `ase.Atoms`
    with a `SinglePointCalculator`; `read_frame` gives the raw arrays as a `Frame`.

    Parameters
    ----------
    path
        An HDF5 trajectory file (``docs/hdf5-format.md``).

    Raises
    ------
    DataFormatError
        If the file is not HDF5, is corrupt, has a newer format version or breaks the schema.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._file = open_hdf5(self.path)
        self._datasets: dict[tuple[str, str], h5py.Dataset] = {}
        try:
            fmt.check_root(self._file, self.path)
            group = self._file[fmt.TRAJECTORIES_GROUP]
            self.names: list[str] = list(group)
            self._groups = [group[name] for name in self.names]
            self._offsets = [fmt.check_trajectory(g, self.path) for g in self._groups]
        except (OSError, KeyError, RuntimeError) as error:
            self.close()
            raise DataFormatError(self.path, f"corrupt HDF5 structure: {error}") from None
        except DataFormatError:
            self.close()
            raise
        counts = [len(offsets) - 1 for offsets in self._offsets]
        self._first_frame = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def __len__(self) -> int:
        return int(self._first_frame[-1])

    def __enter__(self) -> TrajectoryFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying HDF5 file."""
        self._datasets = {}
        self._file.close()

    def trajectory_lengths(self) -> dict[str, int]:
        """Number of frames of each trajectory, in order."""
        return {name: len(o) - 1 for name, o in zip(self.names, self._offsets, strict=True)}

    def locate(self, index: int) -> tuple[int, int]:
        """(trajectory number, frame within it) of global frame ``index`` (negative allowed)."""
        n_frames = len(self)
        if not -n_frames <= index < n_frames:
            raise IndexError(f"frame {index} out of range for {n_frames} frames in {self.path}")
        index %= n_frames
        trajectory = bisect.bisect_right(self._first_frame, index) - 1
        return trajectory, index - int(self._first_frame[trajectory])

    def frame_atom_counts(self) -> np.ndarray:
        """[n_frames] number of atoms of every frame, from the offsets alone."""
        return np.concatenate([np.diff(o) for o in self._offsets]).astype(np.int64)

    def config_types(self) -> list[str | None]:
        """[n_frames] ``config_type`` of every frame (None where not given), from the
        metadata datasets alone."""
        types: list[str | None] = []
        for group, offsets in zip(self._groups, self._offsets, strict=True):
            name = f"{fmt.METADATA_GROUP}/config_type"
            if name in group:
                types += [_string(value) for value in self._read(group, name, 0, None, None)]
            else:
                types += [None] * (len(offsets) - 1)
        return types

    def read_frame(self, index: int) -> Frame:
        """The raw arrays of global frame ``index``, reading only that frame's rows."""
        trajectory, local = self.locate(index)
        return self.read_block(trajectory, local, local + 1)[0]

    def __getitem__(self, index: int) -> ase.Atoms:
        return frame_to_atoms(self.read_frame(index))

    def __iter__(self) -> Iterator[ase.Atoms]:
        for frame in self.iter_frames():
            yield frame_to_atoms(frame)

    def iter_frames(self, trajectory: str | None = None, block_frames: int = 512
                    ) -> Iterator[Frame]:
        """Frames in order, of all trajectories or of the one named, read in blocks."""
        numbers = range(len(self.names)) if trajectory is None else [
            self.names.index(trajectory)]
        for number in numbers:
            n_frames = len(self._offsets[number]) - 1
            for start in range(0, n_frames, block_frames):
                yield from self.read_block(number, start, min(start + block_frames, n_frames))

    def _read(self, group: h5py.Group, name: str, start: int, stop: int | None,
              frame: int | None) -> np.ndarray:
        """Rows ``start:stop`` of ``group[name]``; HDF5 read errors become `DataFormatError`."""
        try:
            key = (group.name, name)
            if key not in self._datasets:  # keep datasets open: their chunk caches stay warm
                self._datasets[key] = group[name]
            return self._datasets[key][start:stop]
        except (OSError, RuntimeError, KeyError) as error:
            raise DataFormatError(self.path, f"cannot read (corrupt file?): {error}", frame,
                                  f"{group.name}/{name}") from None

    def read_block(self, trajectory: int, start: int, stop: int) -> list[Frame]:
        """Frames ``start:stop`` of trajectory number ``trajectory``, with one read per field."""
        group, offsets = self._groups[trajectory], self._offsets[trajectory]
        first = int(self._first_frame[trajectory]) + start

        def rows(name: str, begin: int, end: int) -> np.ndarray:
            return self._read(group, name, begin, end, first)

        atom_start, atom_stop = int(offsets[start]), int(offsets[stop])
        per_atom = {name: rows(name, atom_start, atom_stop) for name in fmt.PER_ATOM_FIELDS}
        per_frame = {name: rows(name, start, stop) for name in fmt.PER_FRAME_FIELDS}
        if fmt.VELOCITIES in group:
            per_atom[fmt.VELOCITIES] = rows(fmt.VELOCITIES, atom_start, atom_stop)
            per_frame[f"has_{fmt.VELOCITIES}"] = rows(f"has_{fmt.VELOCITIES}", start, stop)
        metadata = {name: rows(f"{fmt.METADATA_GROUP}/{name}", start, stop)
                    for name in group.get(fmt.METADATA_GROUP, {})}
        if fmt.WEIGHT_METADATA in metadata:
            _check_weights(metadata[fmt.WEIGHT_METADATA], self.path, first,
                           f"{group.name}/{fmt.METADATA_GROUP}/{fmt.WEIGHT_METADATA}")
        splits = offsets[start + 1:stop] - atom_start
        per_atom = {name: np.split(values, splits) for name, values in per_atom.items()}
        return [_make_frame(k, per_atom, per_frame, metadata) for k in range(stop - start)]


def _check_weights(weights: np.ndarray, path: str, first: int, field: str) -> None:
    """Raise `DataFormatError` naming the first frame whose loss weight is NaN, inf or < 0.

    ``weights`` are the rows of consecutive frames, the first of them global frame ``first``.
    """
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if len(bad):
        k = int(bad[0])
        raise DataFormatError(path, f"loss weight {weights[k]} is not finite and >= 0",
                              first + k, field)


def _string(value: object) -> str | None:
    """A metadata string, or None for the empty "not given" value."""
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text or None


def _make_frame(k: int, per_atom: dict, per_frame: dict, metadata: dict) -> Frame:
    """Frame number ``k`` of a block read by `TrajectoryFile.read_block`."""
    def label(name: str, value: np.ndarray) -> np.ndarray | float | None:
        if not per_frame[f"has_{name}"][k]:
            return None
        return float(value) if value.ndim == 0 else value

    has_temperature = metadata.get("has_temperature", np.zeros(k + 1, bool))[k]
    weights = metadata.get(fmt.WEIGHT_METADATA)
    strings = {name: _string(metadata[name][k]) if name in metadata else None
               for name in fmt.STRING_METADATA}
    return Frame(
        atomic_numbers=per_atom["atomic_numbers"][k].astype(np.int64),
        positions_angstrom=per_atom["positions"][k],
        cell_angstrom=per_frame["cell"][k],
        pbc=per_frame["pbc"][k].astype(bool),
        energy_ev=label("energy", per_frame["energy"][k]),
        forces_ev_per_angstrom=label("forces", per_atom["forces"][k]),
        stress_ev_per_angstrom3=label("stress", per_frame["stress"][k]),
        velocities_angstrom_per_fs=label(fmt.VELOCITIES, per_atom[fmt.VELOCITIES][k])
        if fmt.VELOCITIES in per_atom else None,
        temperature_kelvin=float(metadata["temperature"][k]) if has_temperature else None,
        weight=fmt.DEFAULT_WEIGHT if weights is None else float(weights[k]),
        **strings,
    )
