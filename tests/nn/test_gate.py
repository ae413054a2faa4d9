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


def test_reads_files_that_store_the_former_gate_index() -> None:
    """Model files written before 2026-11-27 (the shipped cuau one) hold a constant index buffer."""
    gate = Gate(4, 2).to(DTYPE)
    state = gate.state_dict()
    state["gate_of_component"] = torch.tensor([0, 0, 0, 1, 1, 1, 1, 1])
    restored = Gate(4, 2).to(DTYPE)
    restored.load_state_dict(state)  # strict: an unexpected key would raise
    x = features(3, 4, 2)
    torch.testing.assert_close(restored(x), gate(x))
