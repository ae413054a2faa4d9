"""Radial basis and smooth cutoff envelope of edge lengths."""

from __future__ import annotations

import math

import torch
from torch import nn


class BesselBasis(nn.Module):
    r"""Bessel radial basis :math:`b_n(r) = \sqrt{2/r_c}\,\sin(n\pi r/r_c)/r`, ``n = 1..n_basis``.

    The frequencies ``n π / r_c`` are trainable, as in DimeNet and NequIP. Input distances in Å.
    """

    def __init__(self, cutoff_angstrom: float, n_basis: int = 8, trainable: bool = True):
        super().__init__()
        self.cutoff_angstrom = float(cutoff_angstrom)
        frequencies = torch.arange(1, n_basis + 1, dtype=torch.get_default_dtype()) * math.pi
        self.frequencies = nn.Parameter(frequencies / cutoff_angstrom, requires_grad=trainable)
        self.prefactor = math.sqrt(2.0 / cutoff_angstrom)

    def forward(self, distances_angstrom: torch.Tensor) -> torch.Tensor:
        """[n_edges] distances in Å -> [n_edges, n_basis]."""
        r = distances_angstrom.unsqueeze(-1)
        return self.prefactor * torch.sin(self.frequencies * r) / r


class PolynomialEnvelope(nn.Module):
    r"""Smooth cutoff :math:`u(x)`, :math:`x = r/r_c`, that is exactly zero for :math:`x \ge 1`.

    .. math::
        u(x) = 1 - \frac{(p+1)(p+2)}{2} x^p + p(p+2) x^{p+1} - \frac{p(p+1)}{2} x^{p+2}

    (Klicpera et al., DimeNet). :math:`u(1) = u'(1) = u''(1) = 0`, so energies, forces and
    force derivatives are continuous when an atom crosses the cutoff sphere.
    """

    def __init__(self, cutoff_angstrom: float, power: int = 6):
        super().__init__()
        self.cutoff_angstrom = float(cutoff_angstrom)
        self.power = int(power)

    def forward(self, distances_angstrom: torch.Tensor) -> torch.Tensor:
        """[n_edges] distances in Å -> [n_edges] envelope values in [0, 1]."""
        p = self.power
        x = distances_angstrom / self.cutoff_angstrom
        xp = x.pow(p)
        u = 1.0 - 0.5 * (p + 1) * (p + 2) * xp + p * (p + 2) * xp * x
        u = u - 0.5 * p * (p + 1) * xp * x * x
        return torch.where(x < 1.0, u, torch.zeros_like(u))
