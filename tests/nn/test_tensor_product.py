"""Channel-wise Clebsch-Gordan couplings: edge features x harmonics, atom x atom features."""

from __future__ import annotations

import pytest
import torch

from potentials.nn.tensor_product import EdgeTensorProduct, SpeciesTensorProduct
from tests.nn.conftest import DTYPE, assert_rotated, features, harmonics, rotate

DEGREES = [(0, 2, 2), (1, 3, 3), (2, 2, 1), (3, 1, 2)]
"""(l_max_x, l_max_y, l_max_out) combinations."""


@pytest.mark.parametrize(("l_max_x", "l_max_y", "l_max_out"), DEGREES)
def test_edge_tensor_product_is_equivariant(o3_matrix: torch.Tensor, l_max_x: int,
                                            l_max_y: int, l_max_out: int) -> None:
    product = EdgeTensorProduct(l_max_x, l_max_y, l_max_out).to(DTYPE)
    x, vectors = features(9, 4, l_max_x), torch.randn(9, 3, dtype=DTYPE)
    weights = torch.randn(9, 4, product.n_paths, dtype=DTYPE)  # invariant, from radii
    rotated = product(rotate(x, o3_matrix), harmonics(vectors @ o3_matrix.T, l_max_y), weights)
    assert_rotated(rotated, rotate(product(x, harmonics(vectors, l_max_y), weights), o3_matrix))


@pytest.mark.parametrize(("l_max_x", "l_max_y", "l_max_out"), DEGREES)
def test_species_tensor_product_is_equivariant(o3_matrix: torch.Tensor, l_max_x: int,
                                               l_max_y: int, l_max_out: int) -> None:
    product = SpeciesTensorProduct(l_max_x, l_max_y, l_max_out, num_species=3,
                                   num_channels=4).to(DTYPE)
    x, y = features(7, 4, l_max_x), features(7, 4, l_max_y)
    species = torch.tensor([0, 1, 2, 0, 2, 2, 1])
    rotated = product(rotate(x, o3_matrix), rotate(y, o3_matrix), species)
    assert_rotated(rotated, rotate(product(x, y, species), o3_matrix))
