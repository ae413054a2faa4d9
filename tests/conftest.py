"""Shared fixtures: the small structure files in ``tests/fixtures``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ase
import numpy as np
import pytest

from potentials.graph.atomic_graph import stress_to_matrix

FIXTURES = Path(__file__).parent / "fixtures"
EXTXYZ_FIXTURES = ("acac_5.xyz", "ethanol_5.xyz", "cu_au_emt.xyz", "mixed_sizes.xyz")


@pytest.fixture
def fixtures_dir() -> Path:
    """Directory of the shipped fixture files."""
    return FIXTURES


@pytest.fixture(params=EXTXYZ_FIXTURES)
def extxyz_fixture(request: pytest.FixtureRequest) -> Path:
    """Each shipped extxyz fixture in turn."""
    return FIXTURES / request.param


def _assert_same_atoms(expected: ase.Atoms, actual: ase.Atoms) -> None:
    """Bitwise equality of structure and labels (stress compared as a 3x3 tensor)."""
    assert np.array_equal(expected.numbers, actual.numbers)
    assert np.array_equal(expected.positions, actual.positions)
    assert np.array_equal(expected.cell.array, actual.cell.array)
    assert np.array_equal(expected.pbc, actual.pbc)
    results = expected.calc.results if expected.calc is not None else {}
    actual_results = actual.calc.results if actual.calc is not None else {}
    for name in ("energy", "forces", "stress"):
        assert (name in results) == (name in actual_results), name
        if name == "stress" and name in results:
            assert np.array_equal(stress_to_matrix(results[name]),
                                  stress_to_matrix(actual_results[name]))
        elif name in results:
            assert np.array_equal(results[name], actual_results[name]), name


@pytest.fixture
def assert_same_atoms() -> Callable[[ase.Atoms, ase.Atoms], None]:
    """A function asserting two structures and their labels are bitwise equal."""
    return _assert_same_atoms
