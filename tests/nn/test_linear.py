"""EquivariantLinear commutes with rotations and reflections, with or without species."""

from __future__ import annotations

import pytest
import torch
from e3nn.util.test import assert_equivariant

from potentials.nn.irreps import natural_irreps
from potentials.nn.linear import EquivariantLinear
from tests.nn.conftest import (
    DTYPE,
    TOLERANCE,
    assert_rotated,
    features,
    from_mul_major,
    rotate,
    to_mul_major,
)


@pytest.mark.parametrize("num_species", [0, 3])
@pytest.mark.parametrize("l_max", [0, 2])
def test_equivariant(o3_matrix: torch.Tensor, num_species: int, l_max: int) -> None:
    linear = EquivariantLinear(4, 5, l_max, num_species=num_species).to(DTYPE)
    x = features(6, 4, l_max)
    species = torch.randint(0, 3, (6,)) if num_species else None
    assert_rotated(linear(rotate(x, o3_matrix), species),
                   rotate(linear(x, species), o3_matrix))


def test_e3nn_assert_equivariant_with_species() -> None:
    linear = EquivariantLinear(4, 5, 2, num_species=3).to(DTYPE)
    species = torch.randint(0, 3, (6,))

    def in_e3nn_layout(x: torch.Tensor, species: torch.Tensor) -> torch.Tensor:
        return to_mul_major(linear(from_mul_major(x, 4, 2), species))

    x = to_mul_major(features(6, 4, 2))
    assert_equivariant(in_e3nn_layout, args_in=[x, species],
                       irreps_in=[natural_irreps(4, 2), None],
                       irreps_out=[natural_irreps(5, 2)], tolerance=TOLERANCE)


def test_species_select_their_own_weights() -> None:
    linear = EquivariantLinear(2, 2, 1, num_species=2).to(DTYPE)
    x = features(1, 2, 1)
    assert not torch.allclose(linear(x, torch.tensor([0])), linear(x, torch.tensor([1])))
