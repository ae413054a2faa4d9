"""ManyBodyProduct: powers of the A-features up to the correlation order stay equivariant."""

from __future__ import annotations

import pytest
import torch

from potentials.nn.product import ManyBodyProduct
from tests.nn.conftest import DTYPE, assert_rotated, features, rotate


@pytest.mark.parametrize(("l_max_in", "l_max_out", "l_max_intermediate", "correlation"), [
    (2, 2, 2, 3), (3, 1, 2, 3), (1, 0, 1, 2), (2, 1, 2, 1),
])
def test_equivariant(o3_matrix: torch.Tensor, l_max_in: int, l_max_out: int,
                     l_max_intermediate: int, correlation: int) -> None:
    product = ManyBodyProduct(4, l_max_in, l_max_out, l_max_intermediate, correlation,
                              num_species=3).to(DTYPE)
    with torch.no_grad():  # per-element weights differ from their initial ones
        product.first_weights.add_(torch.randn_like(product.first_weights))
    a = features(7, 4, l_max_in)
    species = torch.tensor([0, 1, 2, 0, 2, 2, 1])
    assert_rotated(product(rotate(a, o3_matrix), species),
                   rotate(product(a, species), o3_matrix))
