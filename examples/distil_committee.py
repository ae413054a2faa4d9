"""Training frames for one model distilled from a committee: MD snapshots labelled by it.

A committee averages the predictions of K models and costs K times one model per call; the
average generalises better than any member. A single model trained on the reference frames
together with many more frames labelled by the committee can take over part of that, at one
model's cost per call (measured for ethanol in ``docs/models/ethanol_history.md``,
"Distilling the committee into one model").

The snapshots come from short NVE (velocity Verlet) runs started from every input structure
with Maxwell–Boltzmann velocities at ``--temperature-k`` (centre-of-mass motion removed), all
structures integrated together as one batch. One member of the committee (``--driver-member``,
in float32) drives the MD, since the snapshots need only be plausible structures near the
input ones; the whole committee (float64) labels them with energy [eV], forces [eV/Å] and,
for cells periodic in 3-D, stress [eV/Å³]. The input structures should be the teacher's own
training frames, never its validation or test frames. Written as the single trajectory
``committee_md`` of an HDF5 file (``docs/hdf5-format.md``), to be listed in ``train_files``
beside the reference data.

Usage (the ethanol frames of ``docs/models/ethanol_history.md``)::

    python benchmarks/validation_split.py trained_models/ethanol/config.yaml --training \\
        -o ethanol_train950.xyz
    python examples/distil_committee.py ethanol_train950.xyz --teacher ethanol \\
        --output ethanol_committee_md.h5

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

from potentials.data import write_atoms
from potentials.device import resolve_device
from potentials.graph import batch_graphs, from_atoms
from potentials.model import load_model, predict
from potentials.model.registry import resolve_model_path


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("structures", help="starting structures (any file ASE reads)")
    parser.add_argument("--teacher", required=True, help="shipped model name or model file")
    parser.add_argument("--output", required=True, help="HDF5 file to write")
    parser.add_argument("--driver-member", type=int, default=4,
                        help="which member (1-based) of a committee teacher drives the MD")
    parser.add_argument("--temperature-k", type=float, default=500.0,
                        help="temperature of the initial velocities [K]")
    parser.add_argument("--time-step-fs", type=float, default=0.5)
    parser.add_argument("--steps", type=int, default=80, help="MD steps from each structure")
    parser.add_argument("--every", type=int, default=20, help="steps between snapshots")
    parser.add_argument("--batch-size", type=int, default=50,
                        help="structures per labelling call of the teacher")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    if args.every < 1 or args.steps < args.every:
        parser.error(f"--steps ({args.steps}) must be at least --every ({args.every}) >= 1")
    return args


def predict_structures(model: torch.nn.Module, structures: Sequence[ase.Atoms],
                       dtype: torch.dtype, device: torch.device) -> dict[str, np.ndarray]:
    """``energy`` [n_structures] eV, ``forces`` [n_atoms, 3] eV/Å (all structures, in order)
    and, when every cell is periodic in 3-D, ``stress`` [n_structures, 3, 3] eV/Å³."""
    with_stress = all(atoms.pbc.all() for atoms in structures)
    batch = batch_graphs([from_atoms(atoms, model.cutoff_angstrom, dtype=dtype)
                          for atoms in structures]).to(device)
    output = predict(model, batch, compute_stress=with_stress)
    keys = ("energy", "forces", "stress") if with_stress else ("energy", "forces")
    return {key: output[key].detach().cpu().double().numpy() for key in keys}


def initial_velocities(structures: Sequence[ase.Atoms], masses_amu: np.ndarray,
                       temperature_k: float, rng: np.random.Generator) -> np.ndarray:
    """[n_atoms, 3] Maxwell–Boltzmann velocities [Å/ASE time], each structure at rest."""
    velocities = rng.normal(size=(len(masses_amu), 3)) * np.sqrt(
        units.kB * temperature_k / masses_amu)[:, None]
    starts = np.cumsum([0] + [len(atoms) for atoms in structures[:-1]])
    momentum = np.add.reduceat(velocities * masses_amu[:, None], starts)
    total_mass = np.add.reduceat(masses_amu, starts)
    counts = [len(atoms) for atoms in structures]
    return velocities - np.repeat(momentum / total_mass[:, None], counts, axis=0)


def run_md(driver: torch.nn.Module, structures: list[ase.Atoms], args: argparse.Namespace,
           device: torch.device, rng: np.random.Generator) -> list[ase.Atoms]:
    """Velocity Verlet on all ``structures`` at once; a copy of each every ``args.every``."""
    counts = [len(atoms) for atoms in structures]
    bounds = np.cumsum([0] + counts)
    masses = np.concatenate([atoms.get_masses() for atoms in structures])
    positions = np.concatenate([atoms.positions for atoms in structures])
    velocities = initial_velocities(structures, masses, args.temperature_k, rng)
    step_size = args.time_step_fs * units.fs

    def forces_at(new_positions: np.ndarray) -> np.ndarray:
        for atoms, start, stop in zip(structures, bounds[:-1], bounds[1:], strict=True):
            atoms.positions = new_positions[start:stop]
        return predict_structures(driver, structures, torch.float32, device)["forces"]

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


def label(teacher: torch.nn.Module, snapshots: list[ase.Atoms], batch_size: int,
          device: torch.device) -> None:
    """Attach the teacher's float64 energy, forces (and stress) to every snapshot."""
    for first in tqdm(range(0, len(snapshots), batch_size), desc="labelling", unit="batch"):
        chunk = snapshots[first:first + batch_size]
        labels = predict_structures(teacher, chunk, torch.float64, device)
        start = 0
        for k, atoms in enumerate(chunk):
            stop = start + len(atoms)
            results = {"energy": float(labels["energy"][k]),
                       "forces": labels["forces"][start:stop]}
            if "stress" in labels:
                results["stress"] = labels["stress"][k]
            atoms.calc = SinglePointCalculator(atoms, **results)
            start = stop


def driver_of(path: str, member: int, device: torch.device) -> torch.nn.Module:
    """Member ``member`` (1-based) of the committee at ``path``, or the model itself, float32."""
    model = load_model(path, dtype=torch.float32, device=device)
    members = list(getattr(model, "members", [model]))
    if not 1 <= member <= len(members):
        raise SystemExit(f"--driver-member {member} is out of range: {path} has "
                         f"{len(members)} member(s)")
    return members[member - 1]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    device = resolve_device(args.device)
    path = str(resolve_model_path(args.teacher))
    structures = ase.io.read(args.structures, ":")
    start = time.perf_counter()
    snapshots = run_md(driver_of(path, args.driver_member, device), structures, args, device,
                       np.random.default_rng(args.seed))
    label(load_model(path, dtype=torch.float64, device=device), snapshots, args.batch_size,
          device)
    count = write_atoms(args.output, snapshots, name="committee_md", overwrite=args.overwrite)
    print(f"wrote {count} frames to {args.output} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
