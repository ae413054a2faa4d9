"""Gated nonlinearity: SiLU on scalars, sigmoid gates from extra scalars on l > 0 (NequIP)."""

from __future__ import annotations

import torch
from torch import nn

from potentials.nn.irreps import degree_slice


class Gate(nn.Module):
    r"""``x_0 -> silu(x_0)``, ``x_l -> sigmoid(g_l) x_l`` for ``l > 0``.

    The gates :math:`g_l` [n, C, l_max] are invariant scalars computed from ``x_0`` by a
    linear map, so multiplying a degree-l irrep by a function of them stays equivariant.
    """

    def __init__(self, num_channels: int, l_max: int):
        super().__init__()
        self.l_max = l_max
        if l_max > 0:
            self.gate_linear = nn.Linear(num_channels, num_channels * l_max, bias=True)
            nn.init.normal_(self.gate_linear.weight, std=num_channels**-0.5)
            nn.init.zeros_(self.gate_linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[n, C, (l_max+1)^2] -> same shape."""
        scalars = x[:, :, 0]  # [n, C]
        activated = torch.nn.functional.silu(scalars).unsqueeze(-1)
        if self.l_max == 0:
            return activated
        gates = torch.sigmoid(self.gate_linear(scalars)).view(x.shape[0], x.shape[1], self.l_max)
        # Each degree's block times its gate, broadcast over its 2l + 1 components. Not a
        # gather of gates per component: its backward is a scatter-add, which torch 2.13's
        # CPU compiler fails to generate code for.
        gated = [x[:, :, degree_slice(l)] * gates[:, :, l - 1 : l]
                 for l in range(1, self.l_max + 1)]
        return torch.cat([activated, *gated], dim=-1)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        """Also read model files and checkpoints written before 2026-11-27, which store a
        constant component-to-gate index (``gate_of_component``) that is no longer kept."""
        state_dict.pop(prefix + "gate_of_component", None)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
