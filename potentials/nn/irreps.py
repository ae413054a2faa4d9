"""Feature layout: ``[n, channels, (l_max + 1)²]`` with natural parity.

Every equivariant feature in the network has, for each channel, one irrep of each degree
``l = 0..l_max`` with parity ``(-1)^l`` (scalars 0e, vectors 1o, 2e, 3o, ...), the same irreps as
the spherical harmonics of an edge direction. In e3nn notation a feature with ``C`` channels is
``C x 0e + C x 1o + ...``; we store it channel-major, ``[n, C, (l_max+1)^2]``, with the
components of degree ``l`` at positions ``l² .. (l+1)² - 1`` in e3nn's real basis, so that
channel-wise couplings are plain batched matrix products.

Keeping only natural-parity irreps is a choice of which outputs of each coupling we keep; the
parity of every irrep is still tracked, so the network is E(3)- (not only SE(3)-) equivariant.
"""

from __future__ import annotations

import torch
from e3nn import o3


def n_components(l_max: int) -> int:
    """Number of components ``(l_max + 1)²`` of one channel."""
    return (l_max + 1) ** 2


def degree_slice(l: int) -> slice:
    """Positions of the ``2l + 1`` components of degree ``l``."""
    return slice(l * l, (l + 1) * (l + 1))


def degree_of_component(l_max: int) -> torch.Tensor:
    """[(l_max + 1)²] degree ``l`` of every component."""
    return torch.cat([torch.full((2 * l + 1,), l) for l in range(l_max + 1)])


def natural_irreps(num_channels: int, l_max: int) -> o3.Irreps:
    """The e3nn irreps ``C x 0e + C x 1o + ... `` of a feature in this layout."""
    return o3.Irreps([(num_channels, (l, (-1) ** l)) for l in range(l_max + 1)])


def rotation_matrix_for_features(rotation: torch.Tensor, l_max: int) -> torch.Tensor:
    """Block-diagonal Wigner-D matrix [(l_max+1)², (l_max+1)²] of an O(3) matrix ``rotation``.

    Acts on the last axis of a feature: ``x @ D.T`` rotates (and reflects) every channel.
    e3nn builds it from generators in torch's default dtype, so it is only as precise as that
    dtype, whatever the dtype of ``rotation``.
    """
    return natural_irreps(1, l_max).D_from_matrix(rotation)
