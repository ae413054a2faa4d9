"""NPT MD of a periodic Cu3Au-like fcc alloy at 900 K and 0 GPa with the shipped cuau model.

    python examples/npt_cuau.py            # 20 ps (10,000 steps of 2 fs)
    STEPS=20 python examples/npt_cuau.py   # a quick check (as in CI)

Uses ASE's MTK barostat (Nosé-Hoover chains, fully flexible cell) through
`potentials.md.runner`, writes ``npt_cuau.h5`` and the run's plot ``npt_cuau.png``, and prints
the mean volume per atom over the second half of the run.
"""

import os

import numpy as np
from ase.build import bulk

from potentials import EquiCalculator
from potentials.md.options import MDOptions
from potentials.md.plot import plot_md_run
from potentials.md.runner import initialise_velocities, run_md
from potentials.md.trajectory import TrajectoryOutput

STEPS = int(os.environ.get("STEPS", 10_000))

atoms = bulk("Cu", "fcc", a=3.75, cubic=True).repeat(3)  # 108 atoms
rng = np.random.default_rng(0)
gold = rng.choice(len(atoms), size=len(atoms) // 4, replace=False)
atoms.symbols[gold] = "Au"
atoms.calc = EquiCalculator(model="cuau")

options = MDOptions("npt", temperature_kelvin=900.0, pressure_gpa=0.0, timestep_fs=2.0,
                    steps=STEPS, write_every=50)
initialise_velocities(atoms, options)
with TrajectoryOutput("npt_cuau.h5", overwrite=True) as trajectory:
    summary = run_md(atoms, options, trajectory)
print(summary.format("npt"))
volumes = np.array(summary.observations.volumes) / len(atoms)  # Å³/atom, every step
second_half = volumes[len(volumes) // 2:]
print(f"mean volume over the second half {second_half.mean():.3f} ± {second_half.std():.3f} "
      f"Å³/atom; final cell lengths {np.round(atoms.cell.lengths(), 3).tolist()} Å")
plot_md_run(summary.observations, options, len(atoms), "npt_cuau.png",
            f"NPT of Cu{len(atoms) - len(gold)}Au{len(gold)} at 900 K, 0 GPa, cuau")
