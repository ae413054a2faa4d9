"""Energy conservation: total-energy drift of NVE (velocity Verlet) MD with a shipped model.

Default: acetylacetone, 0.5 fs, 2,000 steps (1 ps) from 300 K, float64. The drift is the
slope of a straight-line fit of the total energy per atom against time (meV/atom/ps); the
halves of the run are fitted separately too, to show whether there is a systematic trend.
Writes a plot of the energies against time.

Usage: ``python benchmarks/nve_drift.py [--model acac] [--steps 2000] [--timestep 0.5]``
"""

from __future__ import annotations

import argparse

import ase.io
import numpy as np
from ase import units
from ase.md.verlet import VelocityVerlet

from potentials import EquiCalculator
from potentials.md.options import MDOptions
from potentials.md.runner import initialise_velocities
from potentials.model.registry import resolve_model_path, shipped_structure


def run(model: str, structure: str | None, steps: int, timestep_fs: float,
        temperature_kelvin: float, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times in ps, potential and total energy per atom in meV, relative to the start)."""
    path = structure or shipped_structure(resolve_model_path(model))
    atoms = ase.io.read(path)
    atoms.calc = EquiCalculator(model=model, dtype=dtype)
    initialise_velocities(atoms, MDOptions(temperature_kelvin=temperature_kelvin))
    potential, total = [], []

    def record() -> None:
        energy = atoms.get_potential_energy()
        potential.append(energy)
        total.append(energy + atoms.get_kinetic_energy())

    dynamics = VelocityVerlet(atoms, timestep=timestep_fs * units.fs)
    dynamics.attach(record, interval=1)
    dynamics.run(steps)
    n = len(atoms)
    times = np.arange(len(total)) * timestep_fs / 1000.0
    to_mev = 1000.0 / n
    return (times, (np.array(potential) - total[0]) * to_mev,
            (np.array(total) - total[0]) * to_mev)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="acac")
    parser.add_argument("--structure")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--timestep", type=float, default=0.5, help="fs")
    parser.add_argument("--temperature", type=float, default=300.0, help="K")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--plot", default="nve_drift.png")
    args = parser.parse_args()
    times, potential, total = run(args.model, args.structure, args.steps, args.timestep,
                                  args.temperature, args.dtype)
    slope = np.polyfit(times, total, 1)[0]
    half = len(times) // 2
    first, second = (np.polyfit(times[s], total[s], 1)[0]
                     for s in (slice(0, half), slice(half, None)))
    print(f"model {args.model}, {args.dtype}, {args.steps} steps of {args.timestep} fs from "
          f"{args.temperature} K")
    print(f"total-energy drift {slope:+.4f} meV/atom/ps (first half {first:+.4f}, second half "
          f"{second:+.4f}); fluctuation std {total.std():.4f} meV/atom, max |dE| "
          f"{np.abs(total).max():.4f} meV/atom; potential energy range "
          f"{np.ptp(potential):.1f} meV/atom")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    axes[0].plot(times, potential, linewidth=0.8)
    axes[0].set_ylabel("E_pot - E_tot(0) [meV/atom]")
    axes[1].plot(times, total, linewidth=0.8)
    axes[1].set_ylabel("E_tot - E_tot(0) [meV/atom]")
    axes[1].set_xlabel("time [ps]")
    axes[0].set_title(f"NVE, {args.model}, {args.timestep} fs, drift {slope:+.4f} meV/atom/ps")
    figure.tight_layout()
    figure.savefig(args.plot, dpi=120)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
