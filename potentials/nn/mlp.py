"""Multi-layer perceptron used for radial weights and energy readout."""

from __future__ import annotations

import math

import torch
from torch import nn


class MLP(nn.Module):
    """Multi-layer perceptron with SiLU activations, weights scaled by 1/sqrt(fan-in)."""

    def __init__(self, sizes: list[int]):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(n_in, n_out, bias=False)
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        )
        for layer in self.layers:
            nn.init.normal_(layer.weight, std=1.0 / math.sqrt(layer.in_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                # SiLU has second moment ~0.36 for unit Gaussian input; rescale to keep unit scale.
                x = torch.nn.functional.silu(x) * 1.679
        return x
