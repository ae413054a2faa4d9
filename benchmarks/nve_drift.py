"""Energy conservation: total-energy drift of NVE (velocity Verlet) MD with a shipped model.

Default: acetylacetone, 0.5 fs, 2,000 steps (1 ps) from 300 K, float64. The drift is the
slope of a straight-line fit of the total energy per atom against time (meV/atom/ps); the
halves of the run are fitted separately too, to show whether there is a systematic trend.
Writes the run's plot (`potentials.md.plot`: temperature, energies, committee spread).

Usage: ``python benchmarks/nve_drift.py [--model acac] [--steps 2000] [--timestep 0.5]``
"""

from __future__ import annotations

import argparse

import numpy as np

from potentials.md.options import MDOptions
from potentials.md.plot import plot_md_run
from potentials.md.runner import initialise_velocities, run_md
from potentials.md.setup import load_structure_and_calculator


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
    atoms = load_structure_and_calculator(args.model, args.structure, "auto", args.dtype)
    options = MDOptions("nve", args.temperature, timestep_fs=args.timestep, steps=args.steps)
    initialise_velocities(atoms, options)
    summary = run_md(atoms, options, progress=False)
    potential, total = summary.observations.energies_mev_per_atom(len(atoms))
    times = summary.observations.times_ps(args.timestep)
    half = len(times) // 2
    first, second = (np.polyfit(times[s], total[s], 1)[0]
                     for s in (slice(0, half), slice(half, None)))
    print(f"model {args.model}, {args.dtype}, {args.steps} steps of {args.timestep} fs from "
          f"{args.temperature} K")
    print(f"total-energy drift {summary.energy_drift_mev_per_atom_per_ps:+.4f} meV/atom/ps "
          f"(first half {first:+.4f}, second half {second:+.4f}); fluctuation std "
          f"{total.std():.4f} meV/atom, max |dE| {np.abs(total).max():.4f} meV/atom; "
          f"potential energy range {np.ptp(potential):.1f} meV/atom")
    plot_md_run(summary.observations, options, len(atoms), args.plot,
                f"NVE, {args.model}, {args.timestep} fs, drift "
                f"{summary.energy_drift_mev_per_atom_per_ps:+.4f} meV/atom/ps")
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
