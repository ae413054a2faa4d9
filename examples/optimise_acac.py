"""Geometry optimisation of acetylacetone with BFGS and FIRE on the shipped acac model.

    python examples/optimise_acac.py

Starts from a rattled structure, relaxes to max |F| < 0.01 eV/Å with each optimiser and
prints the energies and step counts.
"""

import os

import ase.io
import numpy as np
from ase.optimize import BFGS, FIRE

from potentials import EquiCalculator
from potentials.model.registry import resolve_model_path, shipped_structure

FMAX_EV_PER_ANGSTROM = 0.01
MAX_STEPS = int(os.environ.get("STEPS", 500))

calculator = EquiCalculator(model="acac")
start = ase.io.read(shipped_structure(resolve_model_path("acac")))
start.rattle(0.05, seed=1)

for optimiser in (BFGS, FIRE):
    atoms = start.copy()
    atoms.calc = calculator
    initial = atoms.get_potential_energy()
    minimiser = optimiser(atoms, logfile=None)
    converged = minimiser.run(fmax=FMAX_EV_PER_ANGSTROM, steps=MAX_STEPS)
    fmax = np.linalg.norm(atoms.get_forces(), axis=1).max()
    print(f"{optimiser.__name__}: {initial:.4f} -> {atoms.get_potential_energy():.4f} eV in "
          f"{minimiser.nsteps} steps, max |F| {fmax:.4f} eV/Å, converged: {converged}")
