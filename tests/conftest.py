"""Shared fixtures: the small structure files in ``tests/fixtures``."""

from __future__ import annotations

from pathlib import Path

import pytest

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
