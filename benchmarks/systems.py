"""Benchmark systems: acetylacetone molecules in a periodic box at near-liquid density."""

from __future__ import annotations

from pathlib import Path

import ase
import ase.io
import numpy as np
from ase import units
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet

DENSITY_G_PER_CM3 = 0.85
"""88 % of liquid acetylacetone's 0.97 g/cm³: rigid molecules placed at random on a grid
cannot reach the liquid's density without overlapping."""
AMU_PER_CM3_PER_ANGSTROM3 = 1.66054
"""1 amu/Å³ in g/cm³."""


ACAC_STRUCTURE = Path(__file__).resolve().parents[1] / "trained_models" / "acac" / "structure.xyz"
"""The structure shipped with the acac model, read from the source tree so that this module
imports nothing from `potentials` (the MACE benchmark runs it in a venv without it)."""


def acac_molecule() -> ase.Atoms:
    """The shipped acetylacetone structure (15 atoms)."""
    return ase.io.read(ACAC_STRUCTURE)


MD_TIMESTEP_FS = 0.5
"""Time step of the MD-speed benchmarks."""
MD_WARM_UP_STEPS = 5
"""Untimed steps before an MD-speed measurement."""


def warmed_up_verlet(atoms: ase.Atoms) -> VelocityVerlet:
    """Velocity Verlet (``MD_TIMESTEP_FS``) on ``atoms`` and its calculator, from 300 K
    Maxwell-Boltzmann momenta (seed 0), after ``MD_WARM_UP_STEPS`` untimed steps: the start
    from which the MD-speed benchmarks time their steps."""
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dynamics = VelocityVerlet(atoms, timestep=MD_TIMESTEP_FS * units.fs)
    dynamics.run(MD_WARM_UP_STEPS)
    return dynamics


MIN_CONTACT_ANGSTROM = 1.5
"""Closest allowed distance between atoms of different molecules."""


def acac_box(n_molecules: int, seed: int = 0, max_tries: int = 2000) -> ase.Atoms:
    """``n_molecules`` randomly oriented molecules on a cubic grid, periodic, at 0.85 g/cm³.

    8, 64 and 512 molecules give 120, 960 and 7,680 atoms. Each molecule gets random
    rotations and shifts of up to 1 Å until it is at least ``MIN_CONTACT_ANGSTROM`` from
    every molecule already placed (minimum image). A single molecule is returned isolated
    (no cell): its box would be smaller than the molecule, which would overlap its images.
    """
    molecule = acac_molecule()
    molecule.positions -= molecule.get_center_of_mass()
    if n_molecules == 1:
        return molecule
    mass_amu = molecule.get_masses().sum() * n_molecules
    length = (mass_amu * AMU_PER_CM3_PER_ANGSTROM3 / DENSITY_G_PER_CM3) ** (1 / 3)
    per_side = int(np.ceil(n_molecules ** (1 / 3) - 1e-9))
    spacing = length / per_side
    rng = np.random.default_rng(seed)
    atoms = ase.Atoms(cell=np.eye(3) * length, pbc=True)
    grid = np.stack(np.meshgrid(*[np.arange(per_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    for site in grid[:n_molecules]:
        atoms += _placed_without_contact(atoms, molecule, (site + 0.5) * spacing, rng, max_tries)
    return atoms


def _placed_without_contact(box: ase.Atoms, molecule: ase.Atoms, centre: np.ndarray,
                            rng: np.random.Generator, max_tries: int) -> ase.Atoms:
    """A randomly rotated copy of ``molecule`` at ``centre`` clear of the atoms in ``box``."""
    for _ in range(max_tries):
        copy = molecule.copy()
        copy.rotate(rng.uniform(0, 360), rng.normal(size=3), center="COM")
        copy.positions += centre + rng.uniform(-1.0, 1.0, size=3)
        if len(box) == 0 or _closest_contact(box, copy.positions) >= MIN_CONTACT_ANGSTROM:
            return copy
    raise RuntimeError(f"no orientation of a molecule at {centre} Å keeps "
                       f"{MIN_CONTACT_ANGSTROM} Å from its neighbours after {max_tries} tries")


def _closest_contact(box: ase.Atoms, positions: np.ndarray) -> float:
    """Smallest minimum-image distance (Å) from ``positions`` to the atoms of ``box`` (cubic)."""
    length = box.cell[0, 0]
    vectors = positions[:, None] - box.positions[None, :]
    vectors -= length * np.round(vectors / length)
    return float(np.linalg.norm(vectors, axis=-1).min())
