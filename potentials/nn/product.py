"""Many-body product: higher body order from channel-wise powers of the A-features (MACE)."""

from __future__ import annotations

import torch
from torch import nn

from potentials.nn.irreps import n_components
from potentials.nn.tensor_product import SpeciesTensorProduct


class ManyBodyProduct(nn.Module):
    r"""Body-ordered features :math:`B = \sum_{\nu=1}^{\nu_{max}} P^{(\nu)}` of correlation order ν.

    :math:`P^{(1)} = w^{(1)}_{z} A` and :math:`P^{(\nu)} = (P^{(\nu-1)} \otimes A)_{w^{(\nu)}_z}`,
    a channel-wise Clebsch-Gordan product whose weights depend on the centre's element z,
    channel and coupling path. Each A is a sum over neighbours, so :math:`P^{(\nu)}` holds
    (ν + 1)-body correlations around the centre atom: with ν = 3 one layer sees 4-body angles
    and dihedral-like terms, which is why MACE needs only two layers (Batatia et al., 2022).
    Intermediate products keep degrees ``l <= l_max_intermediate``; the output ``l <= l_max_out``.
    """

    def __init__(self, num_channels: int, l_max_in: int, l_max_out: int,
                 l_max_intermediate: int, correlation: int, num_species: int):
        super().__init__()
        if correlation < 1:
            raise ValueError(f"correlation order must be >= 1, got {correlation}")
        self.dim_out = n_components(l_max_out)
        self.first_weights = nn.Parameter(torch.ones(num_species, num_channels, l_max_in + 1))
        self.block_sizes = [2 * l + 1 for l in range(l_max_in + 1)]
        self.products = nn.ModuleList()
        l_previous = l_max_in
        for order in range(2, correlation + 1):
            l_next = l_max_out if order == correlation else max(l_max_intermediate, l_max_out)
            self.products.append(SpeciesTensorProduct(
                l_previous, l_max_in, l_next, num_species, num_channels, init_scale=1.0 / order
            ))
            l_previous = l_next

    def forward(self, features: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """[n_atoms, C, (l_max_in+1)^2] A-features -> [n_atoms, C, (l_max_out+1)^2]."""
        weights = self.first_weights[species]  # [n_atoms, C, l_max_in + 1]
        power = torch.cat([
            block * weights[..., l : l + 1]
            for l, block in enumerate(features.split(self.block_sizes, dim=-1))
        ], dim=-1)
        total = power[..., : self.dim_out]
        for product in self.products:
            power = product(power, features, species)
            total = total + power[..., : self.dim_out]
        return total
