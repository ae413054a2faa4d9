"""GraphDataset: AtomicGraphs from HDF5 files, across files, splits and DataLoader workers."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from potentials.data import DataFormatError, read_ase_frames, write_atoms, write_frames
from potentials.data.dataset import GraphDataset
from potentials.graph import batch_graphs, from_atoms

CUTOFF = 4.0


@pytest.fixture
def two_files(fixtures_dir: Path, tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "mixed.h5", tmp_path / "emt.h5"]
    write_frames(paths[0], read_ase_frames(fixtures_dir / "mixed_sizes.xyz"))
    write_frames(paths[1], read_ase_frames(fixtures_dir / "cu_au_emt.xyz"))
    return paths


@pytest.fixture
def reference_atoms(fixtures_dir: Path) -> list:
    return (ase.io.read(fixtures_dir / "mixed_sizes.xyz", index=":")
            + ase.io.read(fixtures_dir / "cu_au_emt.xyz", index=":"))


def assert_same_graph(expected: object, actual: object) -> None:
    for key in ("pos", "atomic_numbers", "cell", "pbc", "edge_index", "cell_shifts", "energy",
                "forces", "stress", "has_energy", "has_forces", "has_stress"):
        assert torch.equal(getattr(expected, key), getattr(actual, key)), key


def test_items_equal_graphs_built_from_atoms(two_files: list[Path],
                                             reference_atoms: list) -> None:
    dataset = GraphDataset(two_files, CUTOFF)
    assert len(dataset) == len(reference_atoms) == 11
    for k, atoms in enumerate(reference_atoms):
        assert_same_graph(from_atoms(atoms, CUTOFF, with_labels=True), dataset[k])
    assert dataset[3].has_forces.item() is False  # the isolated atom
    assert dataset[1].has_stress.item() is True


def test_indices_select_a_split(two_files: list[Path], reference_atoms: list) -> None:
    indices = [10, 0, 4]
    dataset = GraphDataset(two_files, CUTOFF, dtype=torch.float32, indices=indices)
    assert len(dataset) == 3
    assert dataset[0].pos.dtype == torch.float32
    for k, i in enumerate(indices):
        np.testing.assert_array_equal(dataset[k].atomic_numbers.numpy(),
                                      reference_atoms[i].numbers)
        assert dataset[k].energy.item() == reference_atoms[i].get_potential_energy()
    with pytest.raises(IndexError):
        GraphDataset(two_files, CUTOFF, indices=[11])


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_dataloader_with_two_forked_workers(two_files: list[Path],
                                            reference_atoms: list) -> None:
    dataset = GraphDataset(two_files, CUTOFF)
    _ = dataset[0]  # the parent holds open handles before forking
    loader = DataLoader(dataset, batch_size=3, num_workers=2, collate_fn=batch_graphs,
                        multiprocessing_context="fork")
    energies = torch.cat([batch.energy for batch in loader])
    expected = [a.get_potential_energy() for a in reference_atoms]
    np.testing.assert_array_equal(energies.numpy(), expected)
    n_atoms = sum(batch.pos.shape[0] for batch in loader)
    assert n_atoms == sum(len(a) for a in reference_atoms)


def test_a_frame_no_neighbour_search_can_take_is_named(tmp_path: Path) -> None:
    """Frame 1's cell has a 0.001 Å lattice vector (a - b): the error names file and frame."""
    good = ase.Atoms("Cu", cell=np.eye(3) * 3.0, pbc=True)
    bad = ase.Atoms("Cu", cell=[[3, 0, 0], [3, 1e-3, 0], [0, 0, 3]], pbc=True)
    path = tmp_path / "cells.h5"
    write_atoms(path, [good, bad])
    dataset = GraphDataset([path], cutoff_angstrom=4.0)
    assert dataset[0].n_structures == 1
    with pytest.raises(DataFormatError, match=r"cells.h5: frame 1: .*lattice vector of 0.001"):
        dataset[1]
