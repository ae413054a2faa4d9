r"""Weighted energy/force/stress loss.

.. math::
    L = w_E \langle (\Delta E / N)^2 \rangle + w_F \langle |\Delta F|^2 / 3 \rangle
        + w_\sigma \langle |\Delta \sigma|^2 / 9 \rangle

averaged over structures (energy, stress; weighted by each frame's ``weight``) and atoms
(forces), in eV²/atom², eV²/Å², eV²/Å⁶. Frames without a label do not contribute to its term.
With ``huber_delta`` set, squares are replaced by Huber losses with that threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from potentials.graph import AtomicGraph

SumOverRanks = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the three terms (dimensionless)."""

    energy: float
    forces: float
    stress: float


def _penalty(error: torch.Tensor, huber_delta: float | None) -> torch.Tensor:
    if huber_delta is None:
        return error.pow(2)
    return torch.nn.functional.huber_loss(
        error, torch.zeros_like(error), reduction="none", delta=huber_delta
    )


def _masked_mean(values: torch.Tensor, weights: torch.Tensor, sum_over_ranks: SumOverRanks
                 ) -> torch.Tensor:
    """Weighted mean whose normaliser is summed over ranks (local sum / global weight)."""
    total = sum_over_ranks(weights.sum().detach())
    return (values * weights).sum() / total.clamp(min=1e-12)


def _local(value: torch.Tensor) -> torch.Tensor:
    return value


def weighted_loss(
    predicted: dict[str, torch.Tensor],
    graph: AtomicGraph,
    weights: LossWeights,
    huber_delta: float | None = None,
    sum_over_ranks: SumOverRanks = _local,
) -> torch.Tensor:
    """Scalar loss of ``predicted`` (from :func:`potentials.model.predict`) against ``graph``.

    In distributed training ``sum_over_ranks`` sums the normalisers over ranks, so that the sum
    of the ranks' losses (and gradients) is the loss of the global batch.
    """
    frame_weight = graph.weight
    n_atoms = torch.bincount(graph.structure_index, minlength=graph.n_structures)
    loss = predicted["energy"].new_zeros(())
    if weights.energy:
        error = (predicted["energy"] - graph.energy) / n_atoms
        mask = frame_weight * graph.has_energy
        penalty = _penalty(error, huber_delta)
        loss = loss + weights.energy * _masked_mean(penalty, mask, sum_over_ranks)
    if weights.forces and "forces" in predicted:
        error = predicted["forces"] - graph.forces  # [n_atoms, 3]
        mask = (frame_weight * graph.has_forces)[graph.structure_index]
        per_atom = _penalty(error, huber_delta).mean(dim=-1)
        loss = loss + weights.forces * _masked_mean(per_atom, mask, sum_over_ranks)
    if weights.stress and "stress" in predicted:
        error = predicted["stress"] - graph.stress  # [n_structures, 3, 3]
        mask = frame_weight * graph.has_stress
        per_frame = _penalty(error, huber_delta).mean(dim=(1, 2))
        loss = loss + weights.stress * _masked_mean(per_frame, mask, sum_over_ranks)
    return loss
