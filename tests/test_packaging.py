"""The wheel holds every subpackage: pyproject.toml lists them by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import potentials

REPOSITORY = Path(potentials.__file__).parent.parent


def listed_packages(pyproject: str) -> set[str]:
    """The names in ``[tool.setuptools] packages = [...]`` (tomllib needs Python 3.11)."""
    block = re.search(r"^packages = \[(.*?)\]", pyproject, re.MULTILINE | re.DOTALL)
    assert block is not None, "no packages list in pyproject.toml"
    return set(re.findall(r'"([\w.]+)"', block.group(1)))


def test_every_subpackage_is_listed_in_pyproject() -> None:
    """A subpackage left out installs nothing of itself (without potentials.cli, a
    non-editable install has no working `potentials` command)."""
    pyproject = REPOSITORY / "pyproject.toml"
    if not pyproject.is_file():
        pytest.skip("installed without the source checkout's pyproject.toml")
    source = REPOSITORY / "potentials"
    found = {".".join(("potentials", *init.parent.relative_to(source).parts))
             for init in source.rglob("__init__.py")}
    assert found - listed_packages(pyproject.read_text()) == set()
