"""Parse the ``unit`` attribute strings of H5MD files into factors to eV, Å and eV/Å.

H5MD writes units as space-separated factors with integer powers (``"kJ mol-1 nm-1"``); we also
accept ``/`` for division (``"eV/Angstrom"``, ``"kJ/mol/nm"``) and ``^`` or ``**`` before a power.
Molar energies (kJ, kcal) must come with exactly one ``mol-1`` each.
"""

from __future__ import annotations

import re
from collections import Counter

from potentials import units
from potentials.data.errors import DataFormatError

LENGTH_IN_ANGSTROM: dict[str, float] = {
    "nm": units.ANGSTROM_PER_NM,
    "Angstrom": 1.0,
    "angstrom": 1.0,
    "Ang": 1.0,
    "A": 1.0,
    "Å": 1.0,
    "pm": units.ANGSTROM_PER_PM,
    "Bohr": units.ANGSTROM_PER_BOHR,
    "bohr": units.ANGSTROM_PER_BOHR,
}
"""Length units, in Å."""
ENERGY_IN_EV: dict[str, float] = {
    "eV": 1.0,
    "Hartree": units.EV_PER_HARTREE,
    "hartree": units.EV_PER_HARTREE,
    "Ha": units.EV_PER_HARTREE,
}
"""Energy units per particle, in eV."""
MOLAR_ENERGY_IN_EV: dict[str, float] = {
    "kJ": units.EV_PER_KJ_PER_MOL,
    "kcal": units.EV_PER_KCAL_PER_MOL,
}
"""Energy units that are per mole (the value given is that of ``<unit> mol-1``), in eV."""
DIMENSIONS: dict[str, dict[str, int]] = {
    "length": {"length": 1},
    "energy": {"energy": 1},
    "force": {"energy": 1, "length": -1},
}
"""Powers of energy and length of each quantity we import."""

_TOKEN = re.compile(r"^(?P<symbol>[A-Za-zÅ]+)(?:\^|\*\*)?(?P<power>[-+]?\d+)?$")


def _powers(unit: str) -> Counter[str]:
    """The symbols of ``unit`` with their summed integer powers; raises ValueError if malformed."""
    powers: Counter[str] = Counter()
    for part_index, part in enumerate(unit.replace("*", " ").replace("·", " ").split("/")):
        if part_index and not part.strip():
            raise ValueError("empty denominator")
        for token in part.split():
            match = _TOKEN.match(token.replace("**", "^"))
            if match is None:
                raise ValueError(f"cannot parse {token!r}")
            power = int(match["power"] or 1)
            powers[match["symbol"]] += -power if part_index else power
    return powers


def conversion_factor(unit: str, quantity: str, path: str, field: str) -> float:
    """Factor converting values in ``unit`` to Å (length), eV (energy) or eV/Å (force).

    Raises
    ------
    DataFormatError
        Naming ``path``, ``field`` and the unit string, if it is unknown or of the wrong kind.
    """
    known = (f"known lengths {sorted(LENGTH_IN_ANGSTROM)}, energies "
             f"{sorted(ENERGY_IN_EV)} and kJ mol-1, kcal mol-1")
    try:
        powers = _powers(unit)
    except ValueError as error:
        raise DataFormatError(path, f"unknown {quantity} unit {unit!r} ({error}); {known}",
                              field=field) from None
    factor, dimension, moles = 1.0, Counter(), powers.pop("mol", 0)
    for symbol, power in powers.items():
        if symbol in LENGTH_IN_ANGSTROM:
            factor *= LENGTH_IN_ANGSTROM[symbol] ** power
            dimension["length"] += power
        elif symbol in ENERGY_IN_EV or symbol in MOLAR_ENERGY_IN_EV:
            factor *= {**ENERGY_IN_EV, **MOLAR_ENERGY_IN_EV}[symbol] ** power
            dimension["energy"] += power
            moles += power if symbol in MOLAR_ENERGY_IN_EV else 0
        else:
            raise DataFormatError(path, f"unknown {quantity} unit {unit!r} (symbol "
                                  f"{symbol!r}); {known}", field=field)
    expected = DIMENSIONS[quantity]
    if moles != 0 or {k: v for k, v in dimension.items() if v} != expected:
        raise DataFormatError(path, f"unit {unit!r} is not a unit of {quantity}", field=field)
    return factor
