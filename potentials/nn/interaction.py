"""Interaction block: equivariant convolution over the neighbour graph (2-body A-features)."""

from __future__ import annotations

import torch
from torch import nn

from potentials.nn.linear import EquivariantLinear
from potentials.nn.mlp import MLP
from potentials.nn.tensor_product import EdgeTensorProduct


class Interaction(nn.Module):
    r"""Atomic basis :math:`A_i = \bar n^{-1} \sum_{j} R(r_{ij}) (W h_j) \otimes Y(\hat r_{ij})`.

    The neighbour features (``l <= l_max_in``) are mixed by a linear map, coupled channel by
    channel with the spherical harmonics of the edge direction (``l <= l_max_edge``), with one
    weight per channel and coupling path given by an MLP of the enveloped radial basis, summed
    over neighbours and divided by the average neighbour count :math:`\bar n` of the training
    data. Output degrees ``l <= l_max_edge``.
    """

    def __init__(
        self,
        num_channels: int,
        l_max_in: int,
        l_max_edge: int,
        num_radial_basis: int,
        radial_hidden: list[int],
        avg_num_neighbors: float,
    ):
        super().__init__()
        self.num_channels = num_channels
        self.avg_num_neighbors = float(avg_num_neighbors)
        self.linear_up = EquivariantLinear(num_channels, num_channels, l_max_in)
        self.coupling = EdgeTensorProduct(l_max_in, l_max_edge, l_max_edge)
        self.radial = MLP(
            [num_radial_basis, *radial_hidden, num_channels * self.coupling.n_paths]
        )
        self.linear_out = EquivariantLinear(num_channels, num_channels, l_max_edge)

    def forward(
        self,
        features: torch.Tensor,  # [n_atoms, C, (l_max_in+1)^2]
        edge_index: torch.Tensor,  # [2, n_edges]
        edge_harmonics: torch.Tensor,  # [n_edges, (l_max_edge+1)^2]
        edge_radial: torch.Tensor,  # [n_edges, n_basis], enveloped
    ) -> torch.Tensor:
        """Returns the A-features [n_atoms, C, (l_max_edge+1)^2]."""
        centres, neighbours = edge_index[0], edge_index[1]
        features = self.linear_up(features)
        weights = self.radial(edge_radial).view(-1, self.num_channels, self.coupling.n_paths)
        messages = self.coupling(features[neighbours], edge_harmonics, weights)  # [E, C, D]
        summed = messages.new_zeros((features.shape[0], *messages.shape[1:]))
        summed = summed.index_add_(0, centres, messages) / self.avg_num_neighbors
        return self.linear_out(summed)
