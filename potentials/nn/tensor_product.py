r"""Channel-wise Clebsch-Gordan couplings of natural-parity features (e3nn "uvu"/"uuu" paths).

Both classes compute, for every channel c and coupling path p = (l1, l2, l3),

.. math::
    z_{c, l_3 m_3} = \sum_{p \to l_3} \frac{w_{c,p}}{\sqrt{n_{l_3}}} \sum_{m_1 m_2}
    \sqrt{2 l_3 + 1}\, C^{l_3 m_3}_{l_1 m_1 l_2 m_2}\, x_{c, l_1 m_1}\, y_{l_2 m_2}

with :math:`n_{l_3}` the number of paths into degree :math:`l_3`. They differ in where the
weights come from and in how the sums are ordered for speed: `EdgeTensorProduct` couples
per-edge features with edge spherical harmonics shared by all channels, weights from a radial
MLP; `SpeciesTensorProduct` couples two per-atom features with weights per element.
"""

from __future__ import annotations

import math

import torch
from e3nn import o3
from torch import nn

from potentials.nn.irreps import degree_slice, n_components


def coupling_paths(l_max_x: int, l_max_y: int, l_max_out: int) -> list[tuple[int, int, int]]:
    """All (l1, l2, l3) with |l1 - l2| <= l3 <= l1 + l2, l3 <= l_max_out, natural output parity.

    Natural parity of the output, ``(-1)^l1 (-1)^l2 = (-1)^l3``, means ``l1 + l2 + l3`` even.
    """
    paths = [
        (l1, l2, l3)
        for l1 in range(l_max_x + 1)
        for l2 in range(l_max_y + 1)
        for l3 in range(abs(l1 - l2), min(l1 + l2, l_max_out) + 1)
        if (l1 + l2 + l3) % 2 == 0
    ]
    if not paths:
        raise ValueError(f"no coupling paths for l_max {l_max_x} x {l_max_y} -> {l_max_out}")
    return paths


def coupling_tensor(paths: list[tuple[int, int, int]], l_max_x: int, l_max_y: int,
                    l_max_out: int) -> torch.Tensor:
    """[n_paths, dim_x, dim_y, dim_out] normalised Clebsch-Gordan blocks, one per path."""
    paths_into = [sum(1 for p in paths if p[2] == l) for l in range(l_max_out + 1)]
    shape = (len(paths), n_components(l_max_x), n_components(l_max_y), n_components(l_max_out))
    tensor = torch.zeros(shape, dtype=torch.float64)
    for index, (l1, l2, l3) in enumerate(paths):
        norm = math.sqrt((2 * l3 + 1) / paths_into[l3])
        block = o3.wigner_3j(l1, l2, l3, dtype=torch.float64) * norm
        tensor[index, degree_slice(l1), degree_slice(l2), degree_slice(l3)] = block
    return tensor


class EdgeTensorProduct(nn.Module):
    """Couple per-edge features ``x`` [E, C, dim_x] with edge harmonics ``y`` [E, dim_y].

    Ordering for speed: ``y`` is first contracted with the Clebsch-Gordan blocks into a small
    per-edge matrix G [E, rows, dim_out] (rows = one per (path, component of x)), the weights
    are folded into ``x`` as ``wx`` [E, C, rows], and one batched matrix product ``wx @ G``
    gives the output. No [E, C, n_paths, ...] intermediate is ever formed.
    """

    def __init__(self, l_max_x: int, l_max_y: int, l_max_out: int):
        super().__init__()
        self.paths = coupling_paths(l_max_x, l_max_y, l_max_out)
        self.n_paths = len(self.paths)
        self.dim_out = n_components(l_max_out)
        blocks = coupling_tensor(self.paths, l_max_x, l_max_y, l_max_out)
        # Rows ordered by l1, then path, then component m1 (paths are already sorted by l1).
        self.paths_per_degree = [
            sum(1 for p in self.paths if p[0] == l) for l in range(l_max_x + 1)
        ]
        row_blocks = [
            blocks[index, component]  # [dim_y, dim_out]
            for index, (l1, _, _) in enumerate(self.paths)
            for component in range(l1 * l1, (l1 + 1) * (l1 + 1))
        ]
        self.n_rows = len(row_blocks)
        stacked = torch.stack(row_blocks, dim=1)  # [dim_y, rows, dim_out]
        self.register_buffer("harmonics_to_rows", stacked.flatten(1))

    def forward(self, x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``x`` [E, C, dim_x], ``y`` [E, dim_y], ``weights`` [E, C, n_paths] -> [E, C, dim_out]."""
        rows = (y @ self.harmonics_to_rows).view(-1, self.n_rows, self.dim_out)  # [E, rows, out]
        weighted = []
        for l1, weights_l1 in enumerate(weights.split(self.paths_per_degree, dim=-1)):
            x_l1 = x[..., l1 * l1 : (l1 + 1) * (l1 + 1)]  # [E, C, 2 l1 + 1]
            weighted.append((weights_l1.unsqueeze(-1) * x_l1.unsqueeze(-2)).flatten(-2))
        return torch.bmm(torch.cat(weighted, dim=-1), rows)  # [E, C, dim_out]


class SpeciesTensorProduct(nn.Module):
    """Couple two per-atom features ``x`` [N, C, dim_x] and ``y`` [N, C, dim_y] channel-wise.

    The weights [n_species, C, n_paths] are parameters, selected by each atom's element. They
    are folded into the Clebsch-Gordan blocks once per call (a small [S, C, dim_x, dim_y *
    dim_out] tensor), then each element's atoms are contracted with one batched product.
    """

    def __init__(self, l_max_x: int, l_max_y: int, l_max_out: int, num_species: int,
                 num_channels: int, init_scale: float = 1.0):
        super().__init__()
        self.paths = coupling_paths(l_max_x, l_max_y, l_max_out)
        self.n_paths = len(self.paths)
        self.dim_x, self.dim_y = n_components(l_max_x), n_components(l_max_y)
        self.dim_out = n_components(l_max_out)
        blocks = coupling_tensor(self.paths, l_max_x, l_max_y, l_max_out)
        self.register_buffer("blocks", blocks.flatten(2))
        self.weights = nn.Parameter(
            init_scale * torch.randn(num_species, num_channels, self.n_paths)
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        """[N, C, dim_x], [N, C, dim_y], species [N] -> [N, C, dim_out]."""
        folded = torch.einsum("scp,pik->scik", self.weights, self.blocks)  # [S, C, dx, dy*do]
        if torch.compiler.is_compiling():
            return self._contract_all_species(x, y, folded, species)
        out = x.new_empty((x.shape[0], x.shape[1], self.dim_out))
        for s in range(folded.shape[0]):
            atoms = (species == s).nonzero().squeeze(-1)
            if atoms.numel() == 0:
                continue
            xs = x[atoms].transpose(0, 1)  # [C, n_s, dx]
            partial = torch.bmm(xs, folded[s]).transpose(0, 1)  # [n_s, C, dy*do]
            partial = partial.view(-1, x.shape[1], self.dim_y, self.dim_out)
            out[atoms] = (y[atoms].unsqueeze(-1) * partial).sum(-2)
        return out

    def _contract_all_species(self, x: torch.Tensor, y: torch.Tensor, folded: torch.Tensor,
                              species: torch.Tensor) -> torch.Tensor:
        """The same contraction as one dense product, for `torch.compile`.

        The per-element loop above selects atoms with data-dependent shapes, which the
        compiler cannot trace. Here each atom's ``x`` is placed in the block of its element
        of a zero-padded [N, C, S * dx] tensor, and one batched product over channels with
        the folded weights [C, S * dx, dy * do] contracts every atom with its own element's
        weights: S times the arithmetic of the loop, but no per-atom copy of the weights
        and, in the backward pass, no scatter of per-atom weight gradients.
        """
        n_atoms, n_channels, n_species = x.shape[0], x.shape[1], folded.shape[0]
        one_hot = torch.nn.functional.one_hot(species, n_species).to(x.dtype)  # [N, S]
        spread = (one_hot[:, None, :, None] * x[:, :, None, :]).flatten(2)  # [N, C, S*dx]
        weights = folded.transpose(0, 1).flatten(1, 2)  # [C, S*dx, dy*do]
        partial = torch.bmm(spread.transpose(0, 1), weights).transpose(0, 1)  # [N, C, dy*do]
        partial = partial.view(n_atoms, n_channels, self.dim_y, self.dim_out)
        return (y.unsqueeze(-1) * partial).sum(-2)
