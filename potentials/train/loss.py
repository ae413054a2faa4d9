r"""Weighted energy/force/stress loss.

.. math::
    L = w_E \langle (\Delta E / N)^2 \rangle + w_F \langle |\Delta F|^2 / 3 \rangle
        + w_\sigma \langle |\Delta \sigma|^2 / 9 \rangle

averaged over structures (energy, stress; weighted by each frame's ``weight``) and atoms
(forces; weighted also by a factor per element, 1 unless set), in eV²/atom², eV²/Å², eV²/Å⁶.
Frames without a label do not contribute to its term. With ``huber_delta`` set, squares are
replaced by Huber losses with that threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from potentials.graph import AtomicGraph

SumOverRanks = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the three terms and (atomic number, factor) pairs weighting the force
    errors of some elements' atoms within the force term (dimensionless)."""

    energy: float
    forces: float
    stress: float
    forces_by_element: tuple[tuple[int, float], ...] = ()

    def atom_force_weights(self, atomic_numbers: torch.Tensor, dtype: torch.dtype
                           ) -> torch.Tensor:
        """[n_atoms] factor of each atom's force error: its element's, else 1."""
        weights = torch.ones(atomic_numbers.shape, dtype=dtype, device=atomic_numbers.device)
        for number, factor in self.forces_by_element:
            weights = torch.where(atomic_numbers == number, factor, weights)
        return weights


def _local(value: torch.Tensor) -> torch.Tensor:
    return value


def _penalty(error: torch.Tensor, huber_delta: float | None) -> torch.Tensor:
    if huber_delta is None:
        return error.pow(2)
    return torch.nn.functional.huber_loss(
        error, torch.zeros_like(error), reduction="none", delta=huber_delta
    )


@dataclass(frozen=True)
class LossTerm:
    """Weighted sum of one term's penalties and the sum of the weights that normalise it."""

    total: torch.Tensor
    normaliser: torch.Tensor


def loss_terms(
    predicted: dict[str, torch.Tensor],
    graph: AtomicGraph,
    weights: LossWeights,
    huber_delta: float | None = None,
) -> dict[str, LossTerm]:
    """The energy, force and stress terms with a nonzero weight, as (sum, normaliser) pairs.

    Keeping sums and normalisers apart lets callers combine batches and processes exactly:
    the loss of a union of batches is ``sum of totals / sum of normalisers`` per term.
    """
    frame_weight = graph.weight
    terms: dict[str, LossTerm] = {}
    if weights.energy:
        n_atoms = torch.bincount(graph.structure_index, minlength=graph.n_structures)
        error = (predicted["energy"] - graph.energy) / n_atoms  # [n_structures] eV/atom
        mask = frame_weight * graph.has_energy
        terms["energy"] = _term(_penalty(error, huber_delta), mask)
    if weights.forces and "forces" in predicted:
        error = predicted["forces"] - graph.forces  # [n_atoms, 3]
        mask = (frame_weight * graph.has_forces)[graph.structure_index]
        if weights.forces_by_element:
            mask = mask * weights.atom_force_weights(graph.atomic_numbers, mask.dtype)
        terms["forces"] = _term(_penalty(error, huber_delta).mean(dim=-1), mask)
    if weights.stress and "stress" in predicted:
        error = predicted["stress"] - graph.stress  # [n_structures, 3, 3]
        mask = frame_weight * graph.has_stress
        terms["stress"] = _term(_penalty(error, huber_delta).mean(dim=(1, 2)), mask)
    return terms


def _term(values: torch.Tensor, mask: torch.Tensor) -> LossTerm:
    return LossTerm((values * mask).sum(), mask.sum().detach().to(values.dtype))


def combine(terms: dict[str, LossTerm], weights: LossWeights,
            sum_over_ranks: SumOverRanks = _local) -> torch.Tensor:
    """``sum_t w_t total_t / normaliser_t``, each normaliser summed over processes.

    In distributed training each process passes its own totals: the sum over processes of the
    results (and of their gradients) is then the loss of the global batch.
    """
    parts = [getattr(weights, name) * term.total / sum_over_ranks(term.normaliser).clamp(min=1e-12)
             for name, term in terms.items()]
    return torch.stack(parts).sum() if parts else torch.zeros((), dtype=torch.float64)


def weighted_loss(
    predicted: dict[str, torch.Tensor],
    graph: AtomicGraph,
    weights: LossWeights,
    huber_delta: float | None = None,
    sum_over_ranks: SumOverRanks = _local,
) -> torch.Tensor:
    """Scalar loss of ``predicted`` (from :func:`potentials.model.predict`) against ``graph``."""
    return combine(loss_terms(predicted, graph, weights, huber_delta), weights, sum_over_ranks)
