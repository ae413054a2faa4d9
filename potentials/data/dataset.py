"""`GraphDataset`: a torch `Dataset` of `AtomicGraph` frames from one or more HDF5 files.

Files are opened lazily, once per process: a `DataLoader` with worker processes (fork or spawn)
gives every worker its own HDF5 handles, because h5py handles must not cross a fork.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from potentials.data.errors import DataFormatError
from potentials.data.reader import TrajectoryFile
from potentials.graph import AtomicGraph, build_graph


class GraphDataset(Dataset):
    """Frames of HDF5 trajectory files as `AtomicGraph` objects with labels and loss weights.

    Parameters
    ----------
    paths
        One file or several; frames are numbered across them in the given order.
    cutoff_angstrom
        Neighbour-list cutoff in Å.
    dtype
        Floating-point dtype of the graphs.
    indices
        Global frame indices making up this dataset (for example a training split); all frames
        when None. Item ``k`` is frame ``indices[k]``.
    config_type_weights
        Factor on the loss weight of the frames of each ``config_type`` named (others: 1);
        a graph's weight is its frame's weight times its config type's factor.
    """

    def __init__(
        self,
        paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        cutoff_angstrom: float,
        dtype: torch.dtype = torch.float64,
        indices: Sequence[int] | np.ndarray | None = None,
        config_type_weights: Mapping[str, float] | None = None,
    ) -> None:
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        self.paths = [os.fspath(p) for p in paths]
        self.cutoff_angstrom = float(cutoff_angstrom)
        self.dtype = dtype
        self.config_type_weights = dict(config_type_weights or {})
        lengths = []
        for path in self.paths:
            with TrajectoryFile(path) as file:
                lengths.append(len(file))
        self._file_of_frame = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        self._first_frame = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        n_total = int(self._first_frame[-1])
        self.indices = np.arange(n_total) if indices is None else np.asarray(indices, np.int64)
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= n_total):
            raise IndexError(f"indices must lie in [0, {n_total}) for {n_total} frames")
        self._files: dict[int, TrajectoryFile] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.indices)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_files"] = {}
        return state

    def _file(self, k: int) -> TrajectoryFile:
        """File ``k``, opened in this process on first use."""
        if self._pid != os.getpid():  # forked: never use the parent's handles
            self._files, self._pid = {}, os.getpid()
        if k not in self._files:
            self._files[k] = TrajectoryFile(self.paths[k])
        return self._files[k]

    def _locate(self, item: int) -> tuple[int, int]:
        """(file number, frame within that file) of dataset item ``item``."""
        frame = int(self.indices[item])
        k = int(self._file_of_frame[frame])
        return k, frame - int(self._first_frame[k])

    def __getitem__(self, item: int) -> AtomicGraph:
        k, local = self._locate(item)
        frame = self._file(k).read_frame(local)
        try:
            return build_graph(
                frame.atomic_numbers,
                frame.positions_angstrom,
                frame.cell_angstrom,
                frame.pbc,
                self.cutoff_angstrom,
                energy_ev=frame.energy_ev,
                forces_ev_per_angstrom=frame.forces_ev_per_angstrom,
                stress_ev_per_angstrom3=frame.stress_ev_per_angstrom3,
                weight=frame.weight * self.config_type_weights.get(frame.config_type, 1.0),
                dtype=self.dtype,
            )
        except ValueError as error:  # a structure no neighbour search can take
            raise DataFormatError(self.paths[k], str(error), local) from None

    def close(self) -> None:
        """Close the files this process opened."""
        for file in self._files.values():
            file.close()
        self._files = {}
