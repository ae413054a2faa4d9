"""Internal units and named conversion constants.

Everything inside `potentials` is in ASE units: energy in eV, length in Å, force in eV/Å,
stress in eV/Å³, time in fs for user-facing MD options (ASE's internal time unit is converted
with `ase.units.fs`). Conversions from other unit systems happen only in the data importers.
"""

from __future__ import annotations

import ase.units

EV_PER_KJ_PER_MOL: float = ase.units.kJ / ase.units.mol
"""1 kJ/mol in eV."""
EV_PER_KCAL_PER_MOL: float = ase.units.kcal / ase.units.mol
"""1 kcal/mol in eV."""
EV_PER_HARTREE: float = ase.units.Hartree
"""1 Hartree in eV."""
ANGSTROM_PER_NM: float = 10.0
"""1 nm in Å."""
ANGSTROM_PER_PM: float = 0.01
"""1 pm in Å."""
ANGSTROM_PER_BOHR: float = ase.units.Bohr
"""1 Bohr in Å."""
EV_PER_ANGSTROM3_PER_GPA: float = ase.units.GPa
"""1 GPa in eV/Å³."""
MEV_PER_EV: float = 1000.0
"""1 eV in meV."""
ANGSTROM_PER_FS_PER_ASE_VELOCITY: float = ase.units.fs
"""1 Å per ASE time unit (about 10.18 fs), ASE's velocity unit, in Å/fs."""
