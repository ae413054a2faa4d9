"""Gate: SiLU on scalars and scalar-gated l > 0 features stay equivariant."""

from __future__ import annotations

import pytest
import torch

from potentials.nn.gate import Gate
from tests.nn.conftest import DTYPE, assert_rotated, features, rotate


@pytest.mark.parametrize("l_max", [0, 1, 3])
def test_equivariant(o3_matrix: torch.Tensor, l_max: int) -> None:
    gate = Gate(4, l_max).to(DTYPE)
    x = features(6, 4, l_max)
    assert_rotated(gate(rotate(x, o3_matrix)), rotate(gate(x), o3_matrix))
