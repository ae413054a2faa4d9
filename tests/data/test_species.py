"""parse_species: formula, comma list or structure file."""

from __future__ import annotations

from pathlib import Path

import pytest

from potentials.data import DataFormatError
from potentials.data.species import parse_species


def test_formula_expands_in_order() -> None:
    assert list(parse_species("C2H6O")) == [6, 6, 1, 1, 1, 1, 1, 1, 8]


def test_comma_list() -> None:
    assert list(parse_species("O, H,H")) == [8, 1, 1]


def test_structure_file(fixtures_dir: Path) -> None:
    assert len(parse_species(str(fixtures_dir / "ethanol_5.xyz"))) == 9


@pytest.mark.parametrize("text", ["Xx2", "C,Qq", "C,X"])
def test_unknown_symbol(text: str) -> None:
    with pytest.raises(DataFormatError, match="unknown element symbol"):
        parse_species(text)
