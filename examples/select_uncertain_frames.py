"""Find the structures a committee is least sure of: Langevin MD of acetylacetone at 600 K,
twice the temperature of the shipped model's training data, keeping the frames where the
committee's members disagree most.

    python examples/select_uncertain_frames.py            # 4,000 steps of 0.5 fs (2 ps)
    STEPS=20 python examples/select_uncertain_frames.py   # a quick check (as in CI)

Every step records the largest per-atom force disagreement of the members
(``forces_uncertainty``, eV/Å; see potentials.model.committee). The NUM_FRAMES states with the
largest values, at least MIN_GAP_STEPS apart so that they are not near-copies, are written to
``uncertain_frames.extxyz`` with their spread and without energies or forces: the candidates
to label with the reference method and add to the training data. ``uncertain_frames.png``
plots the spread along the run with the selected states marked.
"""

import os

import ase.io
import matplotlib
import numpy as np

from potentials import EquiCalculator
from potentials.md.options import MDOptions
from potentials.md.runner import build_dynamics, initialise_velocities
from potentials.md.trajectory import labelled_copy
from potentials.model.registry import resolve_model_path, shipped_structure
from potentials.units import MEV_PER_EV

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the file-only backend

STEPS = int(os.environ.get("STEPS", 4_000))
TEMPERATURE_K = 600.0
NUM_FRAMES = 10
MIN_GAP_STEPS = 40


def most_uncertain(spreads: np.ndarray, count: int, min_gap: int) -> list[int]:
    """Indices of the ``count`` largest ``spreads``, each at least ``min_gap`` from the others."""
    chosen: list[int] = []
    for index in np.argsort(spreads)[::-1]:
        if all(abs(int(index) - other) >= min_gap for other in chosen):
            chosen.append(int(index))
        if len(chosen) == count:
            break
    return sorted(chosen)


atoms = ase.io.read(shipped_structure(resolve_model_path("acac")))
atoms.calc = EquiCalculator(model="acac")  # the shipped committee (docs/models/acac.md)
options = MDOptions("nvt", temperature_kelvin=TEMPERATURE_K, timestep_fs=0.5, seed=0)
initialise_velocities(atoms, options)  # Maxwell-Boltzmann, no net momentum or rotation
dynamics = build_dynamics(atoms, options)  # ASE's Langevin, friction 0.01 / fs

states = []


def record() -> None:
    """Keep the structure and the members' spread, without the model's energy and forces:
    they are not labels."""
    atoms.get_potential_energy()  # the calculator's results for this state
    state = labelled_copy(atoms)
    state.calc = None
    states.append(state)


dynamics.attach(record, interval=1)
dynamics.run(STEPS)

spreads_mev = MEV_PER_EV * np.array([s.arrays["forces_uncertainty"].max() for s in states])
selected = most_uncertain(spreads_mev, NUM_FRAMES, MIN_GAP_STEPS)
ase.io.write("uncertain_frames.extxyz", [states[i] for i in selected])

figure, axes = plt.subplots(figsize=(7, 3.5))
times_fs = np.arange(len(spreads_mev)) * options.timestep_fs
axes.plot(times_fs, spreads_mev, lw=0.7, label="every step")
axes.plot(times_fs[selected], spreads_mev[selected], "o", color="C3", label="selected")
axes.set(xlabel="time [fs]", ylabel="largest per-atom force spread [meV/Å]",
         title=f"acac committee, Langevin {TEMPERATURE_K:.0f} K")
axes.legend()
figure.tight_layout()
figure.savefig("uncertain_frames.png", dpi=150)

print(f"{STEPS} steps at {TEMPERATURE_K:.0f} K: largest per-atom force spread median "
      f"{np.median(spreads_mev):.1f} meV/Å, largest {spreads_mev.max():.1f} meV/Å")
print(f"selected {len(selected)} frames (steps {selected}; spreads "
      f"{', '.join(f'{spreads_mev[i]:.0f}' for i in selected)} meV/Å) -> "
      f"uncertain_frames.extxyz, plot uncertain_frames.png")
