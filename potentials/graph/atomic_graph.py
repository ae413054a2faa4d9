"""`AtomicGraph`: the one graph type that flows from `ase.Atoms` to energies.

A single structure and a batch of structures are both `AtomicGraph` objects (a batch is the
torch_geometric `Batch` of them, with the extra ``batch`` [n_atoms] and ``ptr`` fields).

Fields (units in brackets)

========================  ======================  ===============================================
field                     shape, dtype            meaning
========================  ======================  ===============================================
``pos``                   [n_atoms, 3] float      Cartesian positions [Å]
``atomic_numbers``        [n_atoms] int64         element of each atom
``cell``                  [n_structures, 3, 3]    lattice vectors as rows [Å] (zeros if molecular)
``pbc``                   [n_structures, 3] bool  periodicity of each lattice direction
``edge_index``            [2, n_edges] int64      row 0: centre atom i, row 1: neighbour atom j
``cell_shifts``           [n_edges, 3] int64      integer image S: r_ij = pos[j] - pos[i] + S @ cell
``energy``                [n_structures] float64  optional reference total energy [eV]
``forces``                [n_atoms, 3] float      optional reference forces [eV/Å]
``stress``                [n_structures, 3, 3]    optional reference stress [eV/Å³], ASE sign
``weight``                [n_structures] float    per-structure weight in the loss (default 1)
``has_energy`` etc.       [n_structures] bool     which labels are present (batches mix them)
========================  ======================  ===============================================

Messages flow from neighbour j to centre i; every pair appears in both directions.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import ase
import numpy as np
import torch
from torch_geometric.data import Batch, Data

from potentials.graph.neighbours import neighbour_list

LABELS: tuple[str, ...] = ("energy", "forces", "stress")
"""Names of the optional reference labels, in eV, eV/Å and eV/Å³."""


class AtomicGraph(Data):
    """Atoms, their neighbour graph and optional labels; see the module docstring for fields."""

    @property
    def n_structures(self) -> int:
        """Number of structures in this graph (1 unless it is a batch)."""
        return int(self.cell.shape[0])

    @property
    def structure_index(self) -> torch.Tensor:
        """[n_atoms] index of the structure each atom belongs to."""
        batch = getattr(self, "batch", None)
        if batch is not None:
            return batch
        return torch.zeros(self.pos.shape[0], dtype=torch.long, device=self.pos.device)

    @property
    def edge_structure_index(self) -> torch.Tensor:
        """[n_edges] index of the structure each edge belongs to."""
        return self.structure_index[self.edge_index[0]]


def select_edges(graph: AtomicGraph, keep: torch.Tensor) -> AtomicGraph:
    """A shallow copy of ``graph`` with only the edges where ``keep`` [n_edges] (bool) is True;
    atoms, cells and labels are shared with ``graph``."""
    selected = copy.copy(graph)
    selected.edge_index = graph.edge_index[:, keep]
    selected.cell_shifts = graph.cell_shifts[keep]
    return selected


def build_graph(
    atomic_numbers: np.ndarray,
    positions_angstrom: np.ndarray,
    cell_angstrom: np.ndarray,
    pbc: np.ndarray,
    cutoff_angstrom: float,
    energy_ev: float | None = None,
    forces_ev_per_angstrom: np.ndarray | None = None,
    stress_ev_per_angstrom3: np.ndarray | None = None,
    weight: float = 1.0,
    dtype: torch.dtype = torch.float64,
) -> AtomicGraph:
    """Build the neighbour graph of one structure within ``cutoff_angstrom``.

    ``stress_ev_per_angstrom3`` may be a 3x3 tensor or Voigt [xx, yy, zz, yz, xz, xy].
    Missing labels are stored as zeros with their ``has_*`` flag set to False.
    """
    positions = np.asarray(positions_angstrom, dtype=np.float64)
    cell = np.asarray(cell_angstrom, dtype=np.float64).reshape(3, 3)
    pbc = np.asarray(pbc, dtype=bool).reshape(3)
    n_atoms = len(positions)
    centres, neighbours, shifts = neighbour_list(positions, cell, pbc, cutoff_angstrom)
    graph = AtomicGraph(
        pos=torch.tensor(positions, dtype=dtype),
        atomic_numbers=torch.tensor(np.asarray(atomic_numbers), dtype=torch.long),
        cell=torch.tensor(cell, dtype=dtype).unsqueeze(0),
        pbc=torch.tensor(pbc).unsqueeze(0),
        edge_index=torch.from_numpy(np.stack([centres, neighbours])),
        cell_shifts=torch.from_numpy(shifts),
        weight=torch.tensor([weight], dtype=dtype),
    )
    # Total energies stay float64 whatever ``dtype``: ~10^4 eV in float32 would lose meVs.
    graph.energy = torch.tensor([0.0 if energy_ev is None else energy_ev], dtype=torch.float64)
    graph.has_energy = torch.tensor([energy_ev is not None])
    forces = np.zeros((n_atoms, 3)) if forces_ev_per_angstrom is None else forces_ev_per_angstrom
    graph.forces = torch.tensor(np.asarray(forces).reshape(n_atoms, 3), dtype=dtype)
    graph.has_forces = torch.tensor([forces_ev_per_angstrom is not None])
    stress = np.zeros((3, 3)) if stress_ev_per_angstrom3 is None else stress_ev_per_angstrom3
    graph.stress = torch.tensor(stress_to_matrix(stress), dtype=dtype).unsqueeze(0)
    graph.has_stress = torch.tensor([stress_ev_per_angstrom3 is not None])
    return graph


def stress_to_matrix(stress: np.ndarray) -> np.ndarray:
    """A 3x3 stress tensor from a 3x3 array or from ASE's Voigt order [xx, yy, zz, yz, xz, xy]."""
    stress = np.asarray(stress, dtype=np.float64)
    if stress.shape == (3, 3):
        return stress
    if stress.shape == (6,):
        xx, yy, zz, yz, xz, xy = stress
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    raise ValueError(f"stress must have shape (3, 3) or (6,), got {stress.shape}")


def lookup_label(atoms: ase.Atoms, key: str) -> object | None:
    """The value stored under ``key`` in the calculator results, ``info`` or ``arrays``.

    The calculator results (as left by ``ase.io.read``) come first; None if no store has it.
    """
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    for store in (results, atoms.info, atoms.arrays):
        if key in store:
            return store[key]
    return None


def labels_from_atoms(atoms: ase.Atoms) -> dict[str, np.ndarray | float]:
    """The energy [eV], forces [eV/Å] and stress [eV/Å³] that ``atoms`` carries, if any,
    each found by `lookup_label` under its own name."""
    found = {name: lookup_label(atoms, name) for name in LABELS}
    return {name: value for name, value in found.items() if value is not None}


def from_atoms(
    atoms: ase.Atoms,
    cutoff_angstrom: float,
    with_labels: bool = False,
    dtype: torch.dtype = torch.float64,
) -> AtomicGraph:
    """The `AtomicGraph` of ``atoms`` within ``cutoff_angstrom``, optionally with its labels."""
    labels = labels_from_atoms(atoms) if with_labels else {}
    return build_graph(
        atoms.numbers,
        atoms.positions,
        atoms.cell.array,
        atoms.pbc,
        cutoff_angstrom,
        energy_ev=labels.get("energy"),
        forces_ev_per_angstrom=labels.get("forces"),
        stress_ev_per_angstrom3=labels.get("stress"),
        dtype=dtype,
    )


def batch_graphs(graphs: Sequence[AtomicGraph]) -> AtomicGraph:
    """Concatenate structures into one disconnected graph (edge indices are offset)."""
    return Batch.from_data_list(list(graphs))


def sum_per_structure(values: torch.Tensor, graph: AtomicGraph) -> torch.Tensor:
    """Sum per-atom ``values`` [n_atoms, ...] into [n_structures, ...]."""
    out = values.new_zeros((graph.n_structures, *values.shape[1:]))
    return out.index_add_(0, graph.structure_index, values)
