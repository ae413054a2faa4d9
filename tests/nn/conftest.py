"""Equivariance test helpers: random O(3) matrices, feature rotation, e3nn's layout.

Features are ``[n, C, (l_max+1)²]`` (channel-major, see `potentials.nn.irreps`); an O(3)
matrix ``R`` acts on them as ``x @ D.T`` with ``D = rotation_matrix_for_features(R, l_max)``,
and on edge vectors as ``v @ R.T``. Everything runs in float64, where the equivariance error of
every module is rounding only, far below `TOLERANCE`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from e3nn import o3

from potentials.nn.irreps import degree_slice, rotation_matrix_for_features

TOLERANCE = 1e-10
"""Largest allowed absolute equivariance error in float64."""
DTYPE = torch.float64


@pytest.fixture(autouse=True)
def seeded() -> None:
    """Fixed random module weights, inputs and O(3) matrices in every test."""
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def float64_by_default() -> Iterator[None]:
    """Float64 as torch's default dtype during each test, restored afterwards.

    e3nn builds the Wigner-D generators in the default dtype, so with float32 the reference
    rotation of the features would be accurate to ~1e-7 only.
    """
    previous = torch.get_default_dtype()
    torch.set_default_dtype(DTYPE)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture(params=["rotation", "reflection"])
def o3_matrix(request: pytest.FixtureRequest) -> torch.Tensor:
    """[3, 3] a random rotation, or a mirror image through the yz plane after one."""
    rotation = o3.rand_matrix(dtype=DTYPE)
    if request.param == "rotation":
        return rotation
    return torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=DTYPE)) @ rotation


def features(n: int, channels: int, l_max: int) -> torch.Tensor:
    """[n, channels, (l_max+1)²] random float64 features."""
    return torch.randn(n, channels, (l_max + 1) ** 2, dtype=DTYPE)


def rotate(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Features ``x`` [..., (l_max+1)²] transformed by the O(3) ``matrix``."""
    l_max = round(x.shape[-1] ** 0.5) - 1
    return x @ rotation_matrix_for_features(matrix, l_max).T


def harmonics(vectors: torch.Tensor, l_max: int) -> torch.Tensor:
    """[n_edges, (l_max+1)²] edge spherical harmonics, normalised as the network does."""
    return o3.spherical_harmonics(list(range(l_max + 1)), vectors, normalize=True,
                                  normalization="component")


def assert_rotated(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """``actual`` equals ``expected`` to `TOLERANCE` (absolute)."""
    torch.testing.assert_close(actual, expected, atol=TOLERANCE, rtol=0.0)


def to_mul_major(x: torch.Tensor) -> torch.Tensor:
    """[n, C, (l_max+1)²] -> [n, dim] in e3nn's layout ``C x 0e + C x 1o + ...``."""
    l_max = round(x.shape[-1] ** 0.5) - 1
    return torch.cat([x[..., degree_slice(l)].flatten(-2) for l in range(l_max + 1)], dim=-1)


def from_mul_major(y: torch.Tensor, channels: int, l_max: int) -> torch.Tensor:
    """Inverse of `to_mul_major`: [n, dim] -> [n, C, (l_max+1)²]."""
    blocks = y.split([channels * (2 * l + 1) for l in range(l_max + 1)], dim=-1)
    return torch.cat([block.unflatten(-1, (channels, 2 * l + 1))
                      for l, block in enumerate(blocks)], dim=-1)
