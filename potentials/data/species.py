"""Parse a species specification: a formula, a comma-separated list or a structure file."""

from __future__ import annotations

import os

import ase.io
import numpy as np
from ase.data import atomic_numbers
from ase.symbols import string2symbols

from potentials.data.errors import DataFormatError


def _numbers(symbols: list[str], origin: str) -> np.ndarray:
    """Atomic numbers of element ``symbols``; an unknown symbol is a `DataFormatError`."""
    unknown = [s for s in symbols if s not in atomic_numbers or atomic_numbers[s] == 0]
    if unknown:
        raise DataFormatError(origin, f"unknown element symbol {unknown[0]!r}")
    return np.array([atomic_numbers[s] for s in symbols], dtype=np.int64)


def parse_species(text: str) -> np.ndarray:
    """Atomic numbers, in atom order, from ``text``.

    ``text`` is one of: a path to a structure file ASE reads (its first structure's elements),
    a comma-separated list of symbols (``"C,C,O,H,H,H,H,H,H"``) or a chemical formula that
    expands in order (``"C2H6O"`` gives C, C, H, H, H, H, H, H, O).

    Raises
    ------
    DataFormatError
        On an unknown element symbol or an unreadable structure file.
    """
    if os.path.isfile(text):
        try:
            return ase.io.read(text, index=0).numbers.astype(np.int64)
        except Exception as error:  # ASE raises many types for unreadable input
            raise DataFormatError(text, f"cannot read species from this structure file "
                                  f"({type(error).__name__}: {error})") from None
    origin = f"species {text!r}"
    if "," in text:
        return _numbers([s.strip() for s in text.split(",")], origin)
    try:
        symbols = string2symbols(text)
    except (KeyError, ValueError) as error:
        raise DataFormatError(origin, f"not a formula, comma list or file ({error})") from None
    return _numbers(symbols, origin)
