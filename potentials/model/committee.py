r"""A committee of independently trained potentials whose per-atom energies are averaged.

.. math::
    E_i = \frac{1}{K} \sum_{k=1}^{K} E_i^{(k)}

Forces and stress follow from this energy by the same autograd as for one model
(:func:`potentials.model.predict`), so they are the averages of the members' forces and stress
and stay conservative and E(3)-equivariant. Members trained from different random starts make
partly independent errors, which averaging reduces; each call costs the sum of the members'
costs. All members share one graph, built with the largest of their cutoffs, and so must
have the same elements; a member with a smaller cutoff sees only the edges within its own
(beyond it they would contribute exactly zero through its cutoff envelope, at full cost), so
members may differ in cutoff: a short and a long cutoff make more different errors than two
short ones.

How far the members disagree is a measure of how far a structure lies from what they were
trained on: :func:`predict_with_spread` returns it alongside the committee's prediction, at
the same cost, by running :func:`~potentials.model.predict` once per member. For members
:math:`k = 1..K` with total energies :math:`E^{(k)}` and forces :math:`F_i^{(k)}`:

.. math::
    \sigma_E = \sqrt{\frac{1}{K} \sum_k \left(E^{(k)} - \bar E\right)^2}, \qquad
    \sigma_{F,i} = \sqrt{\frac{1}{K} \sum_k \left|F_i^{(k)} - \bar F_i\right|^2}

(eV and eV/Å). With :math:`K = 2` members whose errors were independent with equal variance,
:math:`\sigma_E^2` would have the expectation of the committee mean's squared error; errors
the members share are invisible to it, so it is a lower estimate of the error, and how close
it comes is measured for each shipped committee (``benchmarks/committee_uncertainty.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from potentials.graph import AtomicGraph, select_edges
from potentials.model.network import EquivariantPotential
from potentials.model.predict import edge_vectors as vectors_of_edges
from potentials.model.predict import predict
from potentials.model.statistics import DataStatistics

MemberPredictor = Callable[[AtomicGraph, bool], dict[str, torch.Tensor]]
"""``f(graph, compute_stress)`` -> one member's energy, per-atom energies, forces (and
stress): the dict of :func:`~potentials.model.predict`."""


class CommitteePotential(nn.Module):
    """Averages the per-atom energies [n_atoms] in eV of its members."""

    def __init__(self, members: list[EquivariantPotential]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"a committee needs at least 2 members, got {len(members)}")
        first = members[0]
        for index, member in enumerate(members[1:], start=1):
            if member.statistics.atomic_numbers != first.statistics.atomic_numbers:
                raise ValueError(
                    f"committee members need the same elements: member 0 has atomic numbers "
                    f"{first.statistics.atomic_numbers}, member {index} "
                    f"{member.statistics.atomic_numbers}")
        self.members = nn.ModuleList(members)
        # The graph's cutoff [Å]: the largest of the members'.
        self.cutoff_angstrom = max(member.cutoff_angstrom for member in members)

    @property
    def statistics(self) -> DataStatistics:
        """The first member's statistics; only its elements are common to all members."""
        return self.members[0].statistics

    def species_index(self, atomic_numbers: torch.Tensor) -> torch.Tensor:
        """[n_atoms] index into the members' elements; -1 for elements they do not know."""
        return self.members[0].species_index(atomic_numbers)

    def forward(self, graph: AtomicGraph, edge_vectors: torch.Tensor) -> torch.Tensor:
        """Mean per-atom energies [n_atoms] in eV (float64) of the members."""
        return torch.stack([member(*self._as_seen_by(member, graph, edge_vectors))
                            for member in self.members]).mean(0)

    def _as_seen_by(self, member: EquivariantPotential, graph: AtomicGraph,
                    edge_vectors: torch.Tensor) -> tuple[AtomicGraph, torch.Tensor]:
        """``graph`` and its ``edge_vectors`` [n_edges, 3] (Å) restricted to the edges within
        ``member``'s cutoff."""
        if member.cutoff_angstrom >= self.cutoff_angstrom:
            return graph, edge_vectors
        inside = edge_vectors.detach().norm(dim=-1) < member.cutoff_angstrom
        return select_edges(graph, inside), edge_vectors[inside]

    def member_graphs(self, graph: AtomicGraph) -> list[AtomicGraph]:
        """``graph`` as each member sees it: the edges within that member's cutoff."""
        if all(m.cutoff_angstrom >= self.cutoff_angstrom for m in self.members):
            return [graph] * len(self.members)  # no edge vectors needed: the common case
        vectors = vectors_of_edges(graph.pos, graph.cell, graph)
        return [self._as_seen_by(member, graph, vectors)[0] for member in self.members]


def select_members(committee: CommitteePotential, numbers: Sequence[int]
                   ) -> EquivariantPotential | CommitteePotential:
    """Members ``numbers`` of ``committee``, counted from 1 in the order of its file (as the
    model cards count them): that member itself for one number, a committee of those members
    for several. They share their weights with ``committee``.

    Fewer members cost less per call and err more: each card lists every member's errors.
    Raises ValueError naming a number that is not a member or that is given twice.
    """
    count = len(committee.members)
    if not numbers:
        raise ValueError(f"select at least one of the {count} members")
    for number in numbers:
        if not 1 <= number <= count:
            raise ValueError(f"member {number} does not exist: the committee has {count} "
                             f"members, numbered 1 to {count}")
        if list(numbers).count(number) > 1:
            raise ValueError(f"member {number} is selected more than once")
    chosen = [committee.members[number - 1] for number in numbers]
    return chosen[0] if len(chosen) == 1 else CommitteePotential(chosen)


def predict_with_spread(committee: CommitteePotential, graph: AtomicGraph,
                        compute_forces: bool = True, compute_stress: bool = False,
                        member_predictors: Sequence[MemberPredictor] | None = None
                        ) -> dict[str, torch.Tensor]:
    """The committee's prediction, as :func:`~potentials.model.predict` gives it, and the
    members' spread around it.

    Returns the keys of ``predict(committee, graph, ...)`` (the members' means) and
    ``energy_uncertainty`` [n_structures] in eV and, with forces, ``forces_uncertainty``
    [n_atoms] in eV/Å: the standard deviations over members defined in the module docstring.
    ``member_predictors`` (one per member, in order) replace :func:`predict` for each member,
    as the calculator's compiled ones do; they decide themselves what they return, so
    ``compute_forces`` then does not apply.
    """
    if member_predictors is None:
        member_predictors = [eager_predictor(member, compute_forces)
                             for member in committee.members]
    alone = [predictor(member_graph, compute_stress) for predictor, member_graph
             in zip(member_predictors, committee.member_graphs(graph), strict=True)]
    return mean_and_spread(alone)


def predict_members_in_turn(model: nn.Module, graph: AtomicGraph,
                            compute_stress: bool = False) -> dict[str, torch.Tensor]:
    """Energy and forces (and stress) of ``model`` as :func:`~potentials.model.predict`
    gives them; a committee's members run one after another (:func:`predict_with_spread`,
    which adds their spread), so that only one member's autograd graph is held at a time:
    the peak memory of the largest member, not of all of them together, as the calculator
    runs a committee."""
    if isinstance(model, CommitteePotential):
        return predict_with_spread(model, graph, compute_stress=compute_stress)
    return predict(model, graph, compute_stress=compute_stress)


def eager_predictor(member: nn.Module, compute_forces: bool = True) -> MemberPredictor:
    """:func:`~potentials.model.predict` of ``member`` as a :data:`MemberPredictor`."""
    def predict_member(graph: AtomicGraph, compute_stress: bool) -> dict[str, torch.Tensor]:
        return predict(member, graph, compute_forces, compute_stress)
    return predict_member


def mean_and_spread(alone: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The members' mean of every quantity in ``alone`` (one :func:`predict` dict per member)
    and their spread: ``energy_uncertainty`` [n_structures] eV and, if the dicts have forces,
    ``forces_uncertainty`` [n_atoms] eV/Å."""
    # every quantity with a leading member axis: [n_members, ...]
    stacked = {key: torch.stack([one[key] for one in alone]) for key in alone[0]}
    results = {key: values.mean(0) for key, values in stacked.items()}
    results["energy_uncertainty"] = stacked["energy"].std(0, correction=0)  # [n_structures]
    if "forces" in results:
        # squared distance of each member's force from the mean: [n_members, n_atoms]
        deviation = (stacked["forces"] - results["forces"]).square().sum(-1)
        results["forces_uncertainty"] = deviation.mean(0).sqrt()
    return results
