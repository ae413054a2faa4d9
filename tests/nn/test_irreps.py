"""The feature layout: its e3nn irreps, their dimension and how features rotate."""

from __future__ import annotations

import pytest
import torch

from potentials.nn.irreps import (
    degree_of_component,
    n_components,
    natural_irreps,
    rotation_matrix_for_features,
)
from tests.nn.conftest import (
    DTYPE,
    assert_rotated,
    features,
    from_mul_major,
    harmonics,
    rotate,
    to_mul_major,
)


@pytest.mark.parametrize(("channels", "l_max"), [(1, 0), (3, 1), (4, 3)])
def test_natural_irreps_match_the_feature_dimension(channels: int, l_max: int) -> None:
    irreps = natural_irreps(channels, l_max)
    assert irreps.dim == channels * n_components(l_max) == features(2, channels, l_max)[0].numel()
    assert [(mul, ir.l, ir.p) for mul, ir in irreps] == [
        (channels, l, (-1) ** l) for l in range(l_max + 1)]
    assert degree_of_component(l_max).tolist() == [
        l for l in range(l_max + 1) for _ in range(2 * l + 1)]


@pytest.mark.parametrize("l_max", [0, 1, 3])
def test_feature_rotation_is_e3nn_rotation_in_its_layout(o3_matrix: torch.Tensor,
                                                         l_max: int) -> None:
    x = features(5, 3, l_max)
    assert torch.equal(from_mul_major(to_mul_major(x), 3, l_max), x)
    e3nn_matrix = natural_irreps(3, l_max).D_from_matrix(o3_matrix)
    assert_rotated(to_mul_major(rotate(x, o3_matrix)), to_mul_major(x) @ e3nn_matrix.T)


@pytest.mark.parametrize("l_max", [1, 2, 3])
def test_edge_harmonics_rotate_like_features(o3_matrix: torch.Tensor, l_max: int) -> None:
    vectors = torch.randn(7, 3, dtype=DTYPE)
    assert_rotated(harmonics(vectors @ o3_matrix.T, l_max),
                   rotate(harmonics(vectors, l_max), o3_matrix))


def test_rotation_matrix_is_orthogonal_and_block_diagonal(o3_matrix: torch.Tensor) -> None:
    matrix = rotation_matrix_for_features(o3_matrix, 2)
    assert_rotated(matrix @ matrix.T, torch.eye(9, dtype=DTYPE))
    degrees = degree_of_component(2)
    assert torch.all(matrix[degrees[:, None] != degrees[None, :]] == 0)
