r"""A committee of independently trained potentials whose per-atom energies are averaged.

.. math::
    E_i = \frac{1}{K} \sum_{k=1}^{K} E_i^{(k)}

Forces and stress follow from this energy by the same autograd as for one model
(:func:`potentials.model.predict`), so they are the averages of the members' forces and stress
and stay conservative and E(3)-equivariant. Members trained from different random starts make
partly independent errors, which averaging reduces; each call costs the sum of the members'
costs. All members share one graph, so they must have the same cutoff and elements.
"""

from __future__ import annotations

import torch
from torch import nn

from potentials.graph import AtomicGraph
from potentials.model.network import EquivariantPotential
from potentials.model.statistics import DataStatistics


class CommitteePotential(nn.Module):
    """Averages the per-atom energies [n_atoms] in eV of its members."""

    def __init__(self, members: list[EquivariantPotential]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"a committee needs at least 2 members, got {len(members)}")
        first = members[0]
        for index, member in enumerate(members[1:], start=1):
            if member.cutoff_angstrom != first.cutoff_angstrom:
                raise ValueError(
                    f"committee members need one cutoff: member 0 has "
                    f"{first.cutoff_angstrom} Å, member {index} {member.cutoff_angstrom} Å")
            if member.statistics.atomic_numbers != first.statistics.atomic_numbers:
                raise ValueError(
                    f"committee members need the same elements: member 0 has atomic numbers "
                    f"{first.statistics.atomic_numbers}, member {index} "
                    f"{member.statistics.atomic_numbers}")
        self.members = nn.ModuleList(members)
        self.cutoff_angstrom = first.cutoff_angstrom

    @property
    def statistics(self) -> DataStatistics:
        """The first member's statistics; only its elements are common to all members."""
        return self.members[0].statistics

    def species_index(self, atomic_numbers: torch.Tensor) -> torch.Tensor:
        """[n_atoms] index into the members' elements; -1 for elements they do not know."""
        return self.members[0].species_index(atomic_numbers)

    def forward(self, graph: AtomicGraph, edge_vectors: torch.Tensor) -> torch.Tensor:
        """Mean per-atom energies [n_atoms] in eV (float64) of the members."""
        return torch.stack([member(graph, edge_vectors) for member in self.members]).mean(0)
