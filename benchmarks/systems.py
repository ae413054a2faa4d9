"""Benchmark systems: acetylacetone molecules packed in a periodic box at liquid density."""

from __future__ import annotations

import ase
import ase.io
import numpy as np

from potentials.model.registry import resolve_model_path, shipped_structure

LIQUID_DENSITY_G_PER_CM3 = 0.97
"""Density of liquid acetylacetone."""
AMU_PER_CM3_PER_ANGSTROM3 = 1.66054
"""1 amu/Å³ in g/cm³."""


def acac_molecule() -> ase.Atoms:
    """The shipped acetylacetone structure (15 atoms)."""
    return ase.io.read(shipped_structure(resolve_model_path("acac")))


def acac_box(n_molecules: int, seed: int = 0) -> ase.Atoms:
    """``n_molecules`` randomly oriented molecules on a cubic grid, periodic, at liquid density.

    1, 8, 64 and 512 molecules give 15, 120, 960 and 7,680 atoms.
    """
    molecule = acac_molecule()
    molecule.positions -= molecule.get_center_of_mass()
    mass_amu = molecule.get_masses().sum() * n_molecules
    length = (mass_amu * AMU_PER_CM3_PER_ANGSTROM3 / LIQUID_DENSITY_G_PER_CM3) ** (1 / 3)
    per_side = int(np.ceil(n_molecules ** (1 / 3) - 1e-9))
    spacing = length / per_side
    rng = np.random.default_rng(seed)
    atoms = ase.Atoms(cell=np.eye(3) * length, pbc=True)
    grid = np.stack(np.meshgrid(*[np.arange(per_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    for site in grid[:n_molecules]:
        copy = molecule.copy()
        copy.rotate(rng.uniform(0, 360), rng.normal(size=3), center="COM")
        copy.positions += (site + 0.5) * spacing
        atoms += copy
    return atoms
