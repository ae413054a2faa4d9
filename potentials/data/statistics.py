"""Statistics of a training split: isolated-atom energies, neighbour count, energy scale.

Every statistic is built from sums over frames, so in distributed training each rank sums its
own shard and ``sum_over_ranks`` adds the ranks' sums (identity in a single process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from ase.data import chemical_symbols

from potentials.graph import AtomicGraph
from potentials.model.statistics import DataStatistics

SumOverRanks = Callable[[np.ndarray], np.ndarray]


def _identity(value: np.ndarray) -> np.ndarray:
    return value


def element_counts(graphs: Sequence[AtomicGraph], atomic_numbers: Sequence[int]) -> np.ndarray:
    """[n_frames, n_elements] number of atoms of each element in each graph."""
    column = np.full(119, -1)
    column[list(atomic_numbers)] = np.arange(len(atomic_numbers))
    counts = np.zeros((len(graphs), len(atomic_numbers)))
    for row, graph in enumerate(graphs):
        np.add.at(counts[row], column[graph.atomic_numbers.numpy()], 1.0)
    return counts


def fit_e0s(counts: np.ndarray, energies_ev: np.ndarray, sum_over_ranks: SumOverRanks
            ) -> np.ndarray:
    """E0 per element [eV] minimising ``sum_frames (E - counts @ E0)²`` (normal equations).

    With a single composition (one molecule) the problem is underdetermined; the minimum-norm
    solution is used, which reproduces that composition's mean energy exactly.
    """
    normal_matrix = sum_over_ranks(counts.T @ counts)
    right_side = sum_over_ranks(counts.T @ energies_ev)
    solution, *_ = np.linalg.lstsq(normal_matrix, right_side, rcond=None)
    return solution


def compute_statistics(
    graphs: Sequence[AtomicGraph],
    isolated_atom_energies_ev: dict[int, float] | None = None,
    sum_over_ranks: SumOverRanks = _identity,
) -> DataStatistics:
    """`DataStatistics` of a training split (this rank's share of it when distributed).

    E0s come from ``isolated_atom_energies_ev`` (atomic number -> eV) when given (it must
    cover every element), else from a least-squares fit of the total energies. The shift is the
    mean per-atom energy left after subtracting E0s, the scale the RMS force component in eV/Å
    (used as eV), as in MACE; the neighbour count is averaged over all atoms.
    """
    present = np.zeros(119)
    for graph in graphs:
        present[graph.atomic_numbers.numpy()] = 1.0
    atomic_numbers = np.nonzero(sum_over_ranks(present))[0].tolist()
    if not atomic_numbers:
        raise ValueError("cannot compute statistics of an empty training set")
    counts = element_counts(graphs, atomic_numbers)
    has_energy = np.array([bool(g.has_energy.item()) for g in graphs], dtype=bool)
    energies = np.array([float(g.energy.item()) for g in graphs])
    if isolated_atom_energies_ev is not None:
        missing = [z for z in atomic_numbers if z not in isolated_atom_energies_ev]
        if missing:
            symbols = ", ".join(chemical_symbols[z] for z in missing)
            raise ValueError(f"the isolated-atom energies lack {symbols}, which the training "
                             f"data contains")
        e0s = np.array([isolated_atom_energies_ev[z] for z in atomic_numbers])
    else:
        e0s = fit_e0s(counts[has_energy], energies[has_energy], sum_over_ranks)
    n_atoms = counts.sum(axis=1)
    residual_per_atom = (energies - counts @ e0s) / np.maximum(n_atoms, 1)
    force_squares = [g.forces.pow(2).sum().item() for g in graphs if bool(g.has_forces.item())]
    n_force_components = sum(3 * len(g.pos) for g in graphs if bool(g.has_forces.item()))
    sums = sum_over_ranks(np.array([
        residual_per_atom[has_energy].sum(), has_energy.sum(),
        sum(force_squares), n_force_components,
        sum(int(g.edge_index.shape[1]) for g in graphs), n_atoms.sum(),
    ], dtype=np.float64))
    shift = sums[0] / sums[1] if sums[1] else 0.0
    scale = float(np.sqrt(sums[2] / sums[3])) if sums[3] else 1.0
    return DataStatistics(
        atomic_numbers=tuple(atomic_numbers),
        e0s_ev=tuple(e0s.tolist()),
        avg_num_neighbors=float(sums[4] / sums[5]),
        energy_scale_ev=scale if scale > 0 else 1.0,
        energy_shift_ev=float(shift),
    )
