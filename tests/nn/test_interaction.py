"""Interaction: the equivariant convolution over neighbours, from edge vectors or positions."""

from __future__ import annotations

import pytest
import torch
from e3nn.util.test import assert_equivariant

from potentials.nn.interaction import Interaction
from potentials.nn.irreps import natural_irreps
from potentials.nn.radial import BesselBasis, PolynomialEnvelope
from tests.nn.conftest import (
    DTYPE,
    TOLERANCE,
    assert_rotated,
    features,
    from_mul_major,
    harmonics,
    rotate,
    to_mul_major,
)

CHANNELS, N_ATOMS, CUTOFF_ANGSTROM = 4, 6, 5.0


def all_pairs(n_atoms: int) -> torch.Tensor:
    """[2, n (n - 1)] every ordered pair of distinct atoms (centre, neighbour)."""
    centres, neighbours = torch.meshgrid(torch.arange(n_atoms), torch.arange(n_atoms),
                                         indexing="ij")
    keep = centres != neighbours
    return torch.stack([centres[keep], neighbours[keep]])


def interaction(l_max_in: int, l_max_edge: int) -> Interaction:
    return Interaction(CHANNELS, l_max_in, l_max_edge, num_radial_basis=8,
                       radial_hidden=[16], avg_num_neighbors=N_ATOMS - 1.0).to(DTYPE)


@pytest.mark.parametrize(("l_max_in", "l_max_edge"), [(0, 2), (1, 3), (2, 2)])
def test_equivariant(o3_matrix: torch.Tensor, l_max_in: int, l_max_edge: int) -> None:
    block = interaction(l_max_in, l_max_edge)
    edge_index = all_pairs(N_ATOMS)
    x, vectors = features(N_ATOMS, CHANNELS, l_max_in), torch.randn(edge_index.shape[1], 3,
                                                                    dtype=DTYPE)
    radial = torch.randn(edge_index.shape[1], 8, dtype=DTYPE)  # invariant: from lengths
    rotated = block(rotate(x, o3_matrix), edge_index,
                    harmonics(vectors @ o3_matrix.T, l_max_edge), radial)
    expected = rotate(block(x, edge_index, harmonics(vectors, l_max_edge), radial), o3_matrix)
    assert_rotated(rotated, expected)


def test_e3nn_assert_equivariant_on_positions() -> None:
    """Rotations, reflections and translations of positions, as the network sees them."""
    block = interaction(1, 2)
    basis = BesselBasis(CUTOFF_ANGSTROM, 8).to(DTYPE)
    envelope = PolynomialEnvelope(CUTOFF_ANGSTROM)
    edge_index = all_pairs(N_ATOMS)

    def from_positions(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        vectors = positions[edge_index[1]] - positions[edge_index[0]]  # [n_edges, 3]
        distances = vectors.norm(dim=-1)
        radial = basis(distances) * envelope(distances).unsqueeze(-1)  # [n_edges, 8]
        out = block(from_mul_major(x, CHANNELS, 1), edge_index, harmonics(vectors, 2), radial)
        return to_mul_major(out)

    positions = 3.0 * torch.rand(N_ATOMS, 3, dtype=DTYPE)  # all within the cutoff
    assert_equivariant(from_positions,
                       args_in=[to_mul_major(features(N_ATOMS, CHANNELS, 1)), positions],
                       irreps_in=[natural_irreps(CHANNELS, 1), "cartesian_points"],
                       irreps_out=[natural_irreps(CHANNELS, 2)], tolerance=TOLERANCE)
