"""Training frames for one model distilled from a committee: MD snapshots labelled by it.

A committee averages the predictions of K models and costs K times one model per call; the
average generalises better than any member. A single model trained on the reference frames
together with many more frames labelled by the committee can take over part of that, at one
model's cost per call (measured for ethanol in ``docs/models/ethanol_history.md``,
"Distilling the committee into one model").

The snapshots come from short NVE (velocity Verlet) runs started from every input structure
with Maxwell–Boltzmann velocities at ``--temperature-k`` (centre-of-mass motion removed), all
structures integrated together as one batch. One member of the committee (``--driver``, in
float32; by default its first member) drives the MD, since the snapshots need only be
plausible structures near the input ones; the whole committee (float64) labels them with
energy [eV], forces [eV/Å] and, for cells periodic in 3-D, stress [eV/Å³]. The input
structures should be the teacher's own training frames, never its validation or test frames.
Written as the single trajectory ``committee_md`` of an HDF5 file (``docs/hdf5-format.md``),
to be listed in ``train_files`` beside the reference data.

Usage (the ethanol frames of ``docs/models/ethanol_history.md``)::

    python benchmarks/validation_split.py trained_models/ethanol/config.yaml --training \\
        -o ethanol_train950.xyz
    python examples/distil_committee.py ethanol_train950.xyz --teacher ethanol \\
        --driver "ethanol[4]" --output ethanol_committee_md.h5

A seed fixes the velocities and so the whole file.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import ase
import ase.io
import numpy as np
import torch
from ase import units
from ase.calculators.singlepoint import SinglePointCalculator
from tqdm import tqdm

from potentials import EquiCalculator
from potentials.data import write_atoms
from potentials.model.committee import CommitteePotential
from potentials.model.registry import load_named_model


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("structures", help="starting structures (any file ASE reads)")
    parser.add_argument("--teacher", required=True, help="shipped model name or model file")
    parser.add_argument("--output", required=True, help="HDF5 file to write")
    parser.add_argument("--driver", help="model that drives the MD: a name or file, or members "
                        "of a committee as NAME[k] (default: the teacher's first member, or the "
                        "teacher itself when it is a single model)")
    parser.add_argument("--temperature-k", type=float, default=500.0,
                        help="temperature of the initial velocities [K]")
    parser.add_argument("--time-step-fs", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=80, help="MD steps from each structure")
    parser.add_argument("--every", type=int, default=20, help="steps between snapshots")
    parser.add_argument("--batch-size", type=int, default=50,
                        help="structures per batched call of the driver and of the teacher")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if args.every < 1 or args.steps < args.every:
        parser.error(f"--steps ({args.steps}) must be at least --every ({args.every}) >= 1")
    return args


def initial_velocities(masses_amu: np.ndarray, counts: Sequence[int], temperature_k: float,
                       rng: np.random.Generator) -> np.ndarray:
    """[n_atoms, 3] Maxwell–Boltzmann velocities [Å/ASE time] of structures of ``counts``
    atoms each, in order, every structure at rest."""
    velocities = rng.normal(size=(len(masses_amu), 3)) * np.sqrt(
        units.kB * temperature_k / masses_amu)[:, None]
    starts = np.cumsum([0, *counts[:-1]])
    momentum = np.add.reduceat(velocities * masses_amu[:, None], starts)
    total_mass = np.add.reduceat(masses_amu, starts)
    return velocities - np.repeat(momentum / total_mass[:, None], counts, axis=0)


def run_md(driver: EquiCalculator, structures: list[ase.Atoms], args: argparse.Namespace,
           rng: np.random.Generator) -> list[ase.Atoms]:
    """Velocity Verlet on all ``structures`` at once; a copy of each every ``args.every``."""
    counts = [len(atoms) for atoms in structures]
    bounds = np.cumsum([0, *counts])
    masses = np.concatenate([atoms.get_masses() for atoms in structures])
    positions = np.concatenate([atoms.positions for atoms in structures])
    velocities = initial_velocities(masses, counts, args.temperature_k, rng)
    step_size = args.time_step_fs * units.fs

    def forces_at(new_positions: np.ndarray) -> np.ndarray:
        for atoms, start, stop in zip(structures, bounds[:-1], bounds[1:], strict=True):
            atoms.positions = new_positions[start:stop]
        results = driver.evaluate(structures, batch_size=args.batch_size)
        return np.concatenate([result["forces"] for result in results])

    forces = forces_at(positions)
    snapshots = []
    for step in tqdm(range(1, args.steps + 1), desc="MD steps", unit="step"):
        velocities += 0.5 * step_size * forces / masses[:, None]
        positions = positions + step_size * velocities
        forces = forces_at(positions)
        velocities += 0.5 * step_size * forces / masses[:, None]
        if step % args.every == 0:
            kinetic_ev = 0.5 * (masses[:, None] * velocities**2).sum()
            temperature = kinetic_ev / (1.5 * len(masses) * units.kB)
            print(f"{step * args.time_step_fs:.1f} fs: mean temperature {temperature:.0f} K")
            for atoms in structures:
                snapshot = ase.Atoms(atoms.numbers, atoms.positions, cell=atoms.cell,
                                     pbc=atoms.pbc)
                snapshot.info["md_time_fs"] = step * args.time_step_fs
                snapshots.append(snapshot)
    return snapshots


def label(teacher: EquiCalculator, snapshots: list[ase.Atoms], batch_size: int) -> None:
    """Attach the teacher's energy, forces (and, for 3-D periodic cells, stress) to every
    snapshot."""
    for first in tqdm(range(0, len(snapshots), batch_size), desc="labelling", unit="batch"):
        chunk = snapshots[first:first + batch_size]
        for atoms, result in zip(chunk, teacher.evaluate(chunk, batch_size), strict=True):
            labels = {key: result[key] for key in ("energy", "forces", "stress") if key in result}
            atoms.calc = SinglePointCalculator(atoms, **labels)


def driver_of(teacher: str, driver: str | None, device: str) -> EquiCalculator:
    """A float32 calculator of ``driver``; without one, of ``teacher``'s first member (or of
    ``teacher`` itself when it is a single model)."""
    if driver is not None:
        return EquiCalculator(model=driver, device=device, dtype="float32")
    model = load_named_model(teacher, dtype=torch.float32)
    first = model.members[0] if isinstance(model, CommitteePotential) else model
    return EquiCalculator(model=first, device=device, dtype="float32")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    structures = ase.io.read(args.structures, ":")
    start = time.perf_counter()
    snapshots = run_md(driver_of(args.teacher, args.driver, args.device), structures, args,
                       np.random.default_rng(args.seed))
    label(EquiCalculator(model=args.teacher, device=args.device, dtype="float64"), snapshots,
          args.batch_size)
    count = write_atoms(args.output, snapshots, name="committee_md", overwrite=args.overwrite)
    print(f"wrote {count} frames to {args.output} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
