"""Systematic energy offsets of a model per config_type: mean and spread of the signed error.

An energy MAE per config_type (``potentials evaluate``) does not say whether a kind of
structure is predicted too high every time or scattered around the reference. This prints,
per config_type of each HDF5 trajectory file, the mean and standard deviation of the signed
per-atom energy error (predicted - reference) in meV/atom, the model in float64.

Usage: ``python benchmarks/energy_bias.py DATA.h5 [DATA.h5 ...] --model cuau``
"""

from __future__ import annotations

import argparse

import numpy as np

from potentials import EquiCalculator
from potentials.data import TrajectoryFile
from potentials.text_table import fixed_width_table
from potentials.train.evaluate import NO_CONFIG_TYPE
from potentials.units import MEV_PER_EV


def signed_errors_mev_per_atom(model: str, path: str) -> dict[str, np.ndarray]:
    """config_type (`NO_CONFIG_TYPE` where absent) -> [frames] predicted - reference energy
    per atom in meV/atom, in the file's order of first appearance."""
    with TrajectoryFile(path) as file:
        config_types = [kind or NO_CONFIG_TYPE for kind in file.config_types()]
        frames = list(file)
    predicted = EquiCalculator(model=model, dtype="float64").evaluate(frames)
    errors: dict[str, list[float]] = {}
    for kind, atoms, prediction in zip(config_types, frames, predicted, strict=True):
        error = (prediction["energy"] - atoms.get_potential_energy()) / len(atoms)
        errors.setdefault(kind, []).append(MEV_PER_EV * error)
    return {kind: np.array(values) for kind, values in errors.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="+", help="HDF5 trajectory files with energies")
    parser.add_argument("--model", required=True, help="shipped model name or model file")
    args = parser.parse_args()
    rows = [["file", "config_type", "frames", "mean [meV/atom]", "std [meV/atom]"]]
    for path in args.data:
        for kind, errors in signed_errors_mev_per_atom(args.model, path).items():
            rows.append([path, kind, str(len(errors)), f"{errors.mean():+.3f}",
                         f"{errors.std():.3f}"])
    print(fixed_width_table(rows, align_right=True))


if __name__ == "__main__":
    main()
