"""A Lennard-Jones pair potential with the same interface as the learned model.

It runs through the same graph, neighbour list and autograd path as the equivariant network,
so comparing it with ``ase.calculators.lj.LennardJones`` tests that plumbing (periodic images,
cell shifts, forces, stress) independently of the learned model.
"""

from __future__ import annotations

import torch
from torch import nn

from potentials.graph import AtomicGraph


class LennardJones(nn.Module):
    r"""Per-atom energies :math:`E_i = \frac12 \sum_{j: r_{ij} < r_c} [\phi(r_{ij}) - \phi(r_c)]`.

    :math:`\phi(r) = 4\varepsilon[(\sigma/r)^{12} - (\sigma/r)^6]`; the constant shift makes the
    energy continuous at the cutoff, exactly as ASE's ``LennardJones(smooth=False)``.
    ``epsilon_ev`` in eV, ``sigma_angstrom`` and ``cutoff_angstrom`` in Å (ASE's default
    cutoff is 3σ).
    """

    def __init__(self, epsilon_ev: float = 1.0, sigma_angstrom: float = 1.0,
                 cutoff_angstrom: float | None = None):
        super().__init__()
        self.epsilon_ev = float(epsilon_ev)
        self.sigma_angstrom = float(sigma_angstrom)
        self.cutoff_angstrom = float(cutoff_angstrom or 3.0 * sigma_angstrom)

    def species_index(self, atomic_numbers: torch.Tensor) -> torch.Tensor:
        """Every element is accepted."""
        return torch.zeros_like(atomic_numbers)

    def pair_energy(self, distances: torch.Tensor) -> torch.Tensor:
        """φ(r) in eV for distances in Å."""
        x6 = (self.sigma_angstrom / distances) ** 6
        return 4.0 * self.epsilon_ev * (x6 * x6 - x6)

    def forward(self, graph: AtomicGraph, edge_vectors: torch.Tensor) -> torch.Tensor:
        """Per-atom energies [n_atoms] in eV."""
        distances = edge_vectors.norm(dim=-1)  # [n_edges]
        cutoff = torch.tensor(self.cutoff_angstrom, dtype=distances.dtype)
        pair = self.pair_energy(distances) - self.pair_energy(cutoff)
        pair = torch.where(distances < self.cutoff_angstrom, pair, torch.zeros_like(pair))
        energies = torch.zeros_like(graph.pos[:, 0])
        return energies.index_add(0, graph.edge_index[0], 0.5 * pair)
