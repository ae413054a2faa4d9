"""Langevin MD of acetylacetone at 300 K with the shipped acac model.

    python examples/langevin_acac.py            # 10 ps (20,000 steps of 0.5 fs)
    STEPS=20 python examples/langevin_acac.py   # a quick check (as in CI)

Writes ``langevin_acac.h5`` (the project's HDF5 trajectory format: it can be relabelled and
trained on) and prints the mean temperature and potential energy.
"""

import os

import ase.io
import numpy as np
from ase import units
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta

from potentials import EquiCalculator
from potentials.md.trajectory import TrajectoryOutput
from potentials.model.registry import resolve_model_path, shipped_structure

STEPS = int(os.environ.get("STEPS", 20_000))
TEMPERATURE_K = 300.0

atoms = ase.io.read(shipped_structure(resolve_model_path("acac")))
atoms.calc = EquiCalculator(model="acac")  # GPU if available, float64
rng = np.random.default_rng(0)
thermalize_momenta(atoms, temperature_K=TEMPERATURE_K, rng=rng)
Stationary(atoms)
ZeroRotation(atoms)

dynamics = Langevin(atoms, timestep=0.5 * units.fs, temperature_K=TEMPERATURE_K,
                    friction=0.01 / units.fs, fixcm=False, rng=rng)
temperatures, energies = [], []
with TrajectoryOutput("langevin_acac.h5", overwrite=True) as trajectory:
    def record() -> None:
        temperatures.append(atoms.get_temperature())
        energies.append(atoms.get_potential_energy())
        if len(energies) % 20 == 1:
            trajectory.write(atoms)

    dynamics.attach(record, interval=1)
    dynamics.run(STEPS)

print(f"{STEPS} steps: mean temperature {np.mean(temperatures):.1f} K, mean potential "
      f"energy {np.mean(energies):.4f} eV, {trajectory.count} frames in langevin_acac.h5")
