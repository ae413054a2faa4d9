"""Errors of models and of the mean of their predictions, for every subset of the models.

How much would a committee of these models gain, and how does that grow with its size? Each
model is evaluated once per data file (float64, `EquiCalculator.evaluate`); a subset's
prediction is the mean of its members' energies and forces, which is what a committee file
(`potentials committee`) predicts; models may differ in cutoff, as a committee's members may.
A committee given as a model stands for its members, named ``NAME[1]``, ``NAME[2]``...: with
``--models ethanol`` every subset of the shipped ethanol committee's members is measured.

Usage: ``python benchmarks/committee_errors.py --data A.xyz [B.xyz] --models M1 [M2 ...]``
(shipped model names or model files, at least 2 models or members in all; data with reference
energies in eV and forces in eV/Å).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch
from ase.io import read

from potentials import EquiCalculator
from potentials.model.committee import CommitteePotential
from potentials.model.registry import load_named_model
from potentials.units import MEV_PER_EV


def calculators_of(model: str) -> dict[str, EquiCalculator]:
    """A float64 calculator for ``model`` by its name, or for a committee one per member,
    named NAME[i]."""
    loaded = load_named_model(model, dtype=torch.float64)
    if isinstance(loaded, CommitteePotential):
        members = {f"{model}[{i}]": member for i, member in enumerate(loaded.members, start=1)}
    else:
        members = {model: loaded}
    return {name: EquiCalculator(model=member, dtype="float64")
            for name, member in members.items()}


def predictions(calculator: EquiCalculator, frames: list) -> tuple[np.ndarray, np.ndarray]:
    """Energies [n_frames] eV and stacked forces [n_atoms_total, 3] eV/Å of ``calculator``."""
    results = calculator.evaluate(frames)
    return (np.array([r["energy"] for r in results]),
            np.concatenate([r["forces"] for r in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, help="labelled structure files")
    parser.add_argument("--models", nargs="+", required=True,
                        help="models; a committee stands for its members")
    args = parser.parse_args()
    repeated = sorted({model for model in args.models if args.models.count(model) > 1})
    if repeated:
        parser.error(f"--models: {' '.join(repeated)} given more than once")
    models = {name: calculator for model in args.models
              for name, calculator in calculators_of(model).items()}
    if len(models) < 2:
        parser.error(f"--models {' '.join(args.models)}: {len(models)} model, at least 2 needed")
    print("| data | members | E RMSE [meV] | E MAE [meV] | F RMSE [meV/Å] | F MAE [meV/Å] |")
    print("|---|---|---|---|---|---|")
    for path in args.data:
        frames = read(path, ":")
        energy_ref = np.array([frame.get_potential_energy() for frame in frames])
        forces_ref = np.concatenate([frame.get_forces() for frame in frames])
        predicted = {name: predictions(calculator, frames)
                     for name, calculator in models.items()}
        for size in range(1, len(models) + 1):
            for members in itertools.combinations(models, size):
                energy = np.mean([predicted[m][0] for m in members], axis=0) - energy_ref
                forces = np.mean([predicted[m][1] for m in members], axis=0) - forces_ref
                values = MEV_PER_EV * np.array([
                    np.sqrt(np.mean(energy ** 2)), np.mean(np.abs(energy)),
                    np.sqrt(np.mean(forces ** 2)), np.mean(np.abs(forces))])
                print(f"| {Path(path).name} | {' + '.join(members)} | "
                      + " | ".join(f"{v:.2f}" for v in values) + " |")


if __name__ == "__main__":
    main()
