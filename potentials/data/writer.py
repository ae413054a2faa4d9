"""Write frames to an HDF5 trajectory file, atomically: all of it or nothing.

The file is written to a hidden temporary sibling and moved over the output path with
`os.replace` only after the last frame, so an interrupted or failed conversion never leaves a
file at the output path. The root ``format`` attributes are written last as well, so even the
temporary file is never mistaken for a complete trajectory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

import ase
import h5py
import numpy as np

from potentials.data import hdf5_format as fmt
from potentials.data.ase_frames import frame_from_atoms
from potentials.data.errors import DataFormatError
from potentials.data.frame import LABEL_ATTRIBUTES, Frame, validate_frame
from potentials.data.output import prepare_output

COMPRESSIONS: tuple[str | None, ...] = ("gzip", "lzf", None)
"""Accepted values of ``compression``."""


class TrajectoryAppender:
    """Buffers frames of one trajectory group and appends them to its resizable datasets."""

    def __init__(self, group: h5py.Group, options: dict, chunk_atoms: int, chunk_frames: int,
                 source: str | os.PathLike[str]):
        self.group, self.options, self.source = group, options, source
        self.chunks = {"atoms": chunk_atoms, "frames": chunk_frames}
        self.buffer: list[Frame] = []
        self.n_frames, self.n_atoms = 0, 0
        self._create("frame_offsets", (), np.int64, "frames")
        group["frame_offsets"].resize((1,))
        group["frame_offsets"][0] = 0
        for name, trailing in fmt.PER_ATOM_FIELDS.items():
            dtype = np.int32 if name == "atomic_numbers" else np.float64
            self._create(name, trailing, dtype, "atoms")
        for name, trailing in fmt.PER_FRAME_FIELDS.items():
            dtype = bool if name == "pbc" or name.startswith("has_") else np.float64
            self._create(name, trailing, dtype, "frames")

    def _create(
        self, name: str, trailing: tuple[int, ...], dtype: object, per: str, fill: object = None
    ) -> h5py.Dataset:
        """An extendable chunked dataset of ``self.n_frames`` rows filled with ``fill``."""
        rows = 0 if fill is None else {"frames": self.n_frames, "atoms": self.n_atoms}[per]
        dataset = self.group.create_dataset(
            name, shape=(rows, *trailing), maxshape=(None, *trailing), dtype=dtype,
            chunks=(self.chunks[per], *trailing), **self.options,
        )
        if rows:
            dataset[:] = fill
        unit = fmt.UNITS.get(Path(name).name)
        if unit is not None:
            dataset.attrs["unit"] = unit
        return dataset

    def _append(self, name: str, values: np.ndarray) -> None:
        dataset = self.group[name]
        start = dataset.shape[0]
        dataset.resize((start + len(values), *dataset.shape[1:]))
        dataset[start:] = values

    def append(self, frame: Frame) -> None:
        """Check ``frame`` (errors name the source and frame index) and buffer it."""
        self.buffer.append(validate_frame(frame, self.source, self.n_frames + len(self.buffer)))
        if len(self.buffer) >= self.chunks["frames"]:
            self.flush()

    def flush(self) -> None:
        """Append the buffered frames to the datasets."""
        frames, self.buffer = self.buffer, []
        if not frames:
            return
        counts = np.array([frame.n_atoms for frame in frames])
        self._append("frame_offsets", self.n_atoms + np.cumsum(counts))
        self._append("atomic_numbers", np.concatenate([f.atomic_numbers for f in frames]))
        self._append("positions", np.concatenate([f.positions_angstrom for f in frames]))
        self._append("forces", np.concatenate([_or_zeros(f.forces_ev_per_angstrom, (n, 3))
                                               for f, n in zip(frames, counts, strict=True)]))
        self._append("cell", np.stack([f.cell_angstrom for f in frames]))
        self._append("pbc", np.stack([f.pbc for f in frames]))
        self._append("energy", np.array([_or_zeros(f.energy_ev, ()) for f in frames]))
        self._append("stress", np.stack([_or_zeros(f.stress_ev_per_angstrom3, (3, 3))
                                         for f in frames]))
        for label in ("energy", "forces", "stress"):
            present = [getattr(f, LABEL_ATTRIBUTES[label]) is not None for f in frames]
            self._append(f"has_{label}", np.array(present))
        self._flush_velocities(frames, counts)
        self._flush_metadata(frames)
        self.n_frames += len(frames)
        self.n_atoms += int(counts.sum())

    def _flush_velocities(self, frames: list[Frame], counts: np.ndarray) -> None:
        """Append velocities and their mask, created (backfilled with zeros and False) the
        first time a frame has velocities."""
        present = [f.velocities_angstrom_per_fs is not None for f in frames]
        mask = f"has_{fmt.VELOCITIES}"
        if fmt.VELOCITIES not in self.group and any(present):
            self._create(fmt.VELOCITIES, (3,), np.float64, "atoms", fill=0.0)
            self._create(mask, (), bool, "frames", fill=False)
        if fmt.VELOCITIES in self.group:
            self._append(fmt.VELOCITIES, np.concatenate([
                _or_zeros(f.velocities_angstrom_per_fs, (n, 3))
                for f, n in zip(frames, counts, strict=True)]))
            self._append(mask, np.array(present))

    def _flush_metadata(self, frames: list[Frame]) -> None:
        """Append metadata, creating each dataset (backfilled) the first time a value appears."""
        for name in fmt.STRING_METADATA:
            values = [getattr(f, name) or "" for f in frames]
            path = f"{fmt.METADATA_GROUP}/{name}"
            if path not in self.group and any(values):
                self._create(path, (), h5py.string_dtype(), "frames", fill="")
            if path in self.group:
                self._append(path, np.array(values, dtype=object))
        temperatures = [f.temperature_kelvin for f in frames]
        path = f"{fmt.METADATA_GROUP}/temperature"
        if path not in self.group and any(t is not None for t in temperatures):
            self._create(path, (), np.float64, "frames", fill=0.0)
            self._create(f"{fmt.METADATA_GROUP}/has_temperature", (), bool, "frames", fill=False)
        if path in self.group:
            self._append(path, np.array([_or_zeros(t, ()) for t in temperatures]))
            self._append(f"{fmt.METADATA_GROUP}/has_temperature",
                         np.array([t is not None for t in temperatures]))
        self._flush_weights(frames)

    def _flush_weights(self, frames: list[Frame]) -> None:
        """Append loss weights once any frame's differs from 1; earlier frames get weight 1."""
        weights = np.array([f.weight for f in frames], dtype=np.float64)
        path = f"{fmt.METADATA_GROUP}/{fmt.WEIGHT_METADATA}"
        if path not in self.group and np.any(weights != fmt.DEFAULT_WEIGHT):
            self._create(path, (), np.float64, "frames", fill=fmt.DEFAULT_WEIGHT)
        if path in self.group:
            self._append(path, weights)


def _or_zeros(value: object, shape: tuple[int, ...]) -> np.ndarray:
    """``value``, or zeros of ``shape`` when it is missing (its ``has_*`` flag says so)."""
    return np.zeros(shape) if value is None else np.asarray(value, dtype=np.float64)


class TrajectoryWriter:
    """Context manager writing one HDF5 trajectory file of one or more named trajectories.

    Parameters
    ----------
    path
        Output file. Nothing appears there until the ``with`` block ends without an exception.
    overwrite
        Replace an existing file at ``path``; otherwise an existing file is an error.
    compression
        ``"gzip"`` (portable, default), ``"lzf"`` (faster, h5py only) or ``None``.
    chunk_atoms, chunk_frames
        Chunk lengths of the per-atom and per-frame datasets. Frames are also buffered in
        memory ``chunk_frames`` at a time.

    Examples
    --------
    >>> with TrajectoryWriter("out.h5") as writer:  # doctest: +SKIP
    ...     writer.add_trajectory("train", frames)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        overwrite: bool = False,
        compression: str | None = "gzip",
        chunk_atoms: int = 1024,
        chunk_frames: int = 256,
    ) -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
        self.path = Path(path)
        self.overwrite = overwrite
        self.options: dict = {"compression": compression}
        if compression == "gzip":
            self.options.update(compression_opts=4, shuffle=True)
        self.chunk_atoms, self.chunk_frames = chunk_atoms, chunk_frames
        self._file: h5py.File | None = None
        self._temporary: Path | None = None
        self._appenders: list[TrajectoryAppender] = []

    def __enter__(self) -> TrajectoryWriter:
        prepare_output(self.path, self.overwrite)
        self._temporary = temporary_sibling(self.path)
        self._file = h5py.File(self._temporary, "x")
        self._file.create_group(fmt.TRAJECTORIES_GROUP, track_order=True)
        return self

    def begin_trajectory(
        self, name: str, source: str | os.PathLike[str] | None = None
    ) -> TrajectoryAppender:
        """Start trajectory ``name``; frames are then given one by one to ``append``.

        ``source`` (default: the output path) is the file named in error messages.
        """
        if self._file is None:
            raise RuntimeError("TrajectoryWriter used outside its with block")
        trajectories = self._file[fmt.TRAJECTORIES_GROUP]
        if not name or "/" in name or name in trajectories:
            raise DataFormatError(self.path, f"trajectory name {name!r} is empty, contains "
                                  "'/' or is already used")
        appender = TrajectoryAppender(trajectories.create_group(name), self.options,
                                      self.chunk_atoms, self.chunk_frames,
                                      self.path if source is None else source)
        self._appenders.append(appender)
        return appender

    def add_trajectory(
        self, name: str, frames: Iterable[Frame], source: str | os.PathLike[str] | None = None
    ) -> int:
        """Write ``frames`` as trajectory ``name``; return the number of frames written.

        Each frame is checked by `validate_frame`; ``source`` (default: the output path) is
        the file named in error messages, with the frame's index in ``frames``.
        """
        appender = self.begin_trajectory(name, source)
        for frame in frames:
            appender.append(frame)
        appender.flush()
        return appender.n_frames

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._file is not None and self._temporary is not None
        try:
            try:
                if exc_type is None:
                    self._finalise()
            finally:
                self._file.close()
                self._file = None
            if exc_type is None:
                os.replace(self._temporary, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                self._temporary.unlink()

    def _finalise(self) -> None:
        """Flush every trajectory, then mark the file complete with the root attributes."""
        for appender in self._appenders:
            appender.flush()
        self._file.attrs["format"] = fmt.FORMAT_NAME
        self._file.attrs["format_version"] = fmt.FORMAT_VERSION


def temporary_sibling(path: Path) -> Path:
    """A fresh hidden name next to ``path``, to write to before `os.replace` moves it there.

    It keeps the suffix of ``path``, because some writers (``ase.db``) choose the format by it.
    """
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.parent / f".{path.stem}.partial-{tag}{path.suffix}"


def write_frames(
    path: str | os.PathLike[str],
    frames: Iterable[Frame],
    name: str = "default",
    overwrite: bool = False,
    compression: str | None = "gzip",
) -> int:
    """Write ``frames`` as the single trajectory ``name`` of a new file; return the count."""
    with TrajectoryWriter(path, overwrite=overwrite, compression=compression) as writer:
        return writer.add_trajectory(name, frames)


def write_atoms(
    path: str | os.PathLike[str],
    images: Iterable[ase.Atoms],
    name: str = "default",
    energy_key: str | None = None,
    forces_key: str | None = None,
    stress_key: str | None = None,
    overwrite: bool = False,
) -> int:
    """Write ``images`` (labels in their calculator or info/arrays) as trajectory ``name``.

    A named key (``energy_key`` ...) must be present in every structure; without one, each
    label is looked up under its own name and may be missing (see
    `potentials.graph.lookup_label`). Returns the count.
    """
    frames = (frame_from_atoms(atoms, energy_key, forces_key, stress_key, path=path, index=k)
              for k, atoms in enumerate(images))
    return write_frames(path, frames, name=name, overwrite=overwrite)
