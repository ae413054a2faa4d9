"""The model fixture: every small architecture and the Lennard-Jones reference."""

from __future__ import annotations

import pytest

from tests.builders import SMALL_CONFIGS


@pytest.fixture(params=[*SMALL_CONFIGS, "lennard-jones"])
def model_name(request: pytest.FixtureRequest) -> str:
    return request.param
