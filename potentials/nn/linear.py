"""Equivariant linear maps: channel mixing within each degree l, optionally per element."""

from __future__ import annotations

import math

import torch
from torch import nn

from potentials.nn.irreps import degree_slice


class EquivariantLinear(nn.Module):
    """``y_{d, lm} = sum_c W^{(l)}_{cd} x_{c, lm} / sqrt(C_in)``: one weight matrix per degree.

    Mixing channels of the same degree commutes with rotations, so the map is equivariant.
    With ``num_species`` set, each element has its own matrices (MACE's species-dependent
    self-connection); ``species`` [n] then selects them.
    """

    def __init__(self, channels_in: int, channels_out: int, l_max: int, num_species: int = 0):
        super().__init__()
        self.l_max = l_max
        self.num_species = num_species
        shape = (max(num_species, 1), l_max + 1, channels_in, channels_out)
        self.weight = nn.Parameter(torch.randn(shape))
        self.scale = 1.0 / math.sqrt(channels_in)

    def forward(self, x: torch.Tensor, species: torch.Tensor | None = None) -> torch.Tensor:
        """[n, C_in, (l_max+1)²] -> [n, C_out, (l_max+1)²]."""
        blocks = []
        for l in range(self.l_max + 1):
            x_l = x[:, :, degree_slice(l)]  # [n, C_in, 2l+1]
            if self.num_species:
                per_species = torch.einsum("ncm,scd->nsdm", x_l, self.weight[:, l])
                index = species.view(-1, 1, 1, 1).expand(-1, 1, *per_species.shape[2:])
                blocks.append(per_species.gather(1, index).squeeze(1))  # [n, C_out, 2l+1]
            else:
                blocks.append(torch.einsum("ncm,cd->ndm", x_l, self.weight[0, l]))
        return torch.cat(blocks, dim=-1) * self.scale
