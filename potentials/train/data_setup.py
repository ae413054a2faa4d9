"""From the files named in a training config to in-memory graph splits and their checks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import ase.io
import numpy as np
import torch
from ase.data import chemical_symbols
from tqdm import tqdm

from potentials.data.convert import ReadOptions, convert, input_kind
from potentials.data.dataset import GraphDataset
from potentials.data.reader import TrajectoryFile
from potentials.graph import AtomicGraph, labels_from_atoms
from potentials.train.config import ConfigError, DataConfig

SumArray = Callable[[np.ndarray], np.ndarray]
Graphs = Sequence[AtomicGraph]
"""A split: a list of graphs held in memory, or a `GraphDataset` reading frames lazily."""


@dataclass(frozen=True)
class SplitSummary:
    """What a split holds, summed over all processes' shares."""

    presence: np.ndarray
    """[119] nonzero for every atomic number present."""
    n_frames: int
    n_energy: int
    n_forces: int
    n_stress: int

    @classmethod
    def of(cls, graphs: Graphs, sum_array: SumArray) -> SplitSummary:
        """One pass over ``graphs`` (reads every frame of a lazy dataset once)."""
        totals = np.zeros(119 + 4)
        for graph in graphs:
            totals[graph.atomic_numbers.numpy()] = 1.0
            totals[119:] += [1, bool(graph.has_energy.item()), bool(graph.has_forces.item()),
                             bool(graph.has_stress.item())]
        totals = sum_array(totals)
        return cls(totals[:119], *(int(round(n)) for n in totals[119:]))


@dataclass
class Splits:
    """Graphs of each split (this process's share), the training files' sha256 and the
    training and validation summaries (all processes' shares)."""

    train: Graphs
    valid: Graphs
    test: dict[str, Graphs]
    train_sha256: str
    train_summary: SplitSummary
    valid_summary: SplitSummary


def file_sha256(paths: list[str]) -> str:
    """sha256 over the bytes of ``paths`` in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def ensure_hdf5(path: str, options: ReadOptions, cache_dir: str, progress: bool = True) -> str:
    """``path`` itself if it is an HDF5 trajectory, else its conversion, cached by content hash."""
    if input_kind(path) == "potentials":
        return path
    keys = f"{options.energy_key}|{options.forces_key}|{options.stress_key}".encode()
    digest = hashlib.sha256(file_sha256([path]).encode() + keys).hexdigest()[:16]
    target = Path(cache_dir).expanduser() / f"{Path(path).stem}-{digest}.h5"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Several processes may convert at once: the write is atomic and the result identical.
        convert([path], target, options, overwrite=True, progress=progress)
    return os.fspath(target)


def split_indices(n_frames: int, valid_fraction: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (train, valid) split of ``range(n_frames)``, both in shuffled order."""
    order = np.random.default_rng(seed).permutation(n_frames)
    n_valid = int(round(valid_fraction * n_frames))
    return order[n_valid:], order[:n_valid]


def pool_split(n_pool: int, config: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, valid) indices into the ``n_pool`` frames of ``config.train_files``.

    Seeded by ``config.split_seed``, or by ``seed`` if that is None, so that committee members
    trained from different seeds can share their validation frames; the training share is
    capped at ``config.max_train_frames``. With ``valid_files`` every pool frame trains.
    """
    fraction = 0.0 if config.valid_files else config.valid_fraction
    split_seed = seed if config.split_seed is None else config.split_seed
    train_index, valid_index = split_indices(n_pool, fraction, split_seed)
    return np.sort(train_index[: config.max_train_frames]), np.sort(valid_index)


def load_graphs(dataset: GraphDataset, description: str, progress: bool = True
                ) -> list[AtomicGraph]:
    """Build every graph of ``dataset`` once, with a progress bar unless ``progress`` is off."""
    return [dataset[k] for k in tqdm(range(len(dataset)), desc=description, leave=False,
                                     disable=not progress)]


def read_isolated_atoms(path: str) -> dict[int, float]:
    """Atomic number -> energy in eV from a file of single-atom frames (any ASE format)."""
    energies = {}
    for index, atoms in enumerate(ase.io.read(path, index=":")):
        if len(atoms) != 1:
            raise ConfigError(f"{path}: frame {index} has {len(atoms)} atoms, expected 1")
        energy = labels_from_atoms(atoms).get("energy")
        if energy is None:
            raise ConfigError(f"{path}: frame {index} carries no energy")
        energies[int(atoms.numbers[0])] = float(energy)
    return energies


def _check_splits(splits: Splits, config: DataConfig, sum_array: SumArray) -> None:
    """Checks on the union of all processes' shares, so every process agrees."""
    train = splits.train_summary
    if not train.n_frames:
        raise ConfigError("the training split is empty")
    test_summaries = [(name, SplitSummary.of(graphs, sum_array))
                      for name, graphs in splits.test.items()]
    for name, summary in [("validation", splits.valid_summary), *test_summaries]:
        if name == "validation" and not summary.n_frames:
            raise ConfigError("the validation split is empty; raise data.valid_fraction or "
                              "give data.valid_files")
        unseen = (summary.presence > 0) & ~(train.presence > 0)
        if unseen.any():
            missing = sorted(chemical_symbols[z] for z in np.nonzero(unseen)[0])
            raise ConfigError(f"{name} data contains element(s) {missing} absent from the "
                              f"training data")
    if not train.n_energy and not config.train_on_forces_only:
        raise ConfigError("the training data has no energies under the names read (for "
                          "extended XYZ and other ASE input, name them with data.energy_key)"
                          + ("; or set data.train_on_forces_only: true to fit forces alone"
                             if train.n_forces else ""))


def _check_config_type_weights(weights: dict[str, float], train_files: Sequence[str]) -> None:
    """Refuse a weight for a config_type no training frame has: it would do nothing."""
    if not weights:
        return
    present: set[str | None] = set()
    for path in train_files:
        with TrajectoryFile(path) as file:
            present.update(file.config_types())
    named = sorted(t for t in present if t is not None)
    for config_type in weights:
        if config_type not in present:
            raise ConfigError(f"data.config_type_weights: no training frame has config_type "
                              f"{config_type!r} (config types: {', '.join(named) or 'none'})")


def _all(indices: np.ndarray) -> np.ndarray:
    return indices


@dataclass
class SplitDatasets:
    """The splits as lazy datasets (this process's share): nothing is read but frame counts."""

    train: GraphDataset
    valid: GraphDataset
    test: dict[str, GraphDataset]


def split_datasets(config: DataConfig, cutoff_angstrom: float, seed: int, dtype: torch.dtype,
                   shard: Callable[[np.ndarray], np.ndarray] = _all, progress: bool = True
                   ) -> SplitDatasets:
    """Convert inputs if needed and split them, seeded, into lazy datasets of ``dtype``.

    The split is `pool_split`'s. ``shard`` picks this process's share of every split's frame
    indices (distributed training); ``progress`` shows bars while files are converted.
    """
    options = ReadOptions(config.energy_key, config.forces_key, config.stress_key)

    def hdf5(paths: Sequence[str]) -> list[str]:
        return [ensure_hdf5(p, options, config.cache_dir, progress) for p in paths]

    def dataset(files: list[str], indices: np.ndarray | None = None) -> GraphDataset:
        if indices is None:
            indices = np.arange(len(GraphDataset(files, cutoff_angstrom, dtype)))
        return GraphDataset(files, cutoff_angstrom, dtype, shard(indices),
                            config.config_type_weights)

    train_files = hdf5(config.train_files)
    _check_config_type_weights(config.config_type_weights, train_files)
    n_pool = len(GraphDataset(train_files, cutoff_angstrom, dtype))
    train_index, valid_index = pool_split(n_pool, config, seed)
    train = dataset(train_files, train_index)
    valid = (dataset(hdf5(config.valid_files)) if config.valid_files
             else dataset(train_files, valid_index))
    test = {Path(p).stem: dataset(hdf5([p])) for p in config.test_files}
    return SplitDatasets(train, valid, test)


def prepare_splits(config: DataConfig, cutoff_angstrom: float, seed: int,
                   dtype: torch.dtype, shard: Callable[[np.ndarray], np.ndarray] = _all,
                   sum_array: SumArray = _all, progress: bool = True) -> Splits:
    """Convert inputs if needed, split them, build graphs and check the result.

    ``shard`` picks this process's share of every split's frame indices and ``sum_array``
    adds arrays over processes (distributed training); only this share's frames are read.
    ``progress`` shows bars while files are converted and graphs built.
    """
    datasets = split_datasets(config, cutoff_angstrom, seed, dtype, shard, progress)

    def graphs(dataset: GraphDataset, name: str) -> Graphs:
        return load_graphs(dataset, name, progress) if config.in_memory else dataset

    train, valid = graphs(datasets.train, "train"), graphs(datasets.valid, "valid")
    splits = Splits(train, valid, {name: graphs(d, "test") for name, d in datasets.test.items()},
                    file_sha256(list(config.train_files)), SplitSummary.of(train, sum_array),
                    SplitSummary.of(valid, sum_array))
    _check_splits(splits, config, sum_array)
    return splits
