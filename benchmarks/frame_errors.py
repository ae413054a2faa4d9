"""Per-frame force errors of models on one data file: where in the distribution they differ.

An overall force RMSE can rise because most frames got worse or because a few got much worse.
For each model this prints the distribution of the per-frame force RMSE (median, 90th and
99th percentile, largest, overall), the share of its squared error in its worst frames, and,
for two models, on how many frames the first is worse than the second. With ``--reference
MODEL`` the errors are measured against that model's float64 forces instead of the stored
ones: how closely a model reproduces another (a distilled model its committee, say).

Usage: ``python benchmarks/frame_errors.py DATA.xyz --models acac other.model [--worst 10]
[--reference MODEL]``
"""

from __future__ import annotations

import argparse

import numpy as np
from ase.io import read

from potentials import EquiCalculator
from potentials.units import MEV_PER_EV


def predicted_forces(model: str, frames: list) -> list[np.ndarray]:
    """Forces [n_atoms, 3] in eV/Å of each frame from ``model`` in float64, evaluated in
    batches (``EquiCalculator.evaluate``)."""
    return [predicted["forces"]
            for predicted in EquiCalculator(model=model, dtype="float64").evaluate(frames)]


def force_errors_ev_per_angstrom(model: str, frames: list,
                                 reference: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Forces of ``model`` (float64) minus ``reference`` (default: the stored forces)
    [n_atoms, 3] of each frame, eV/Å."""
    reference = reference or [frame.get_forces() for frame in frames]
    return [predicted - expected for predicted, expected
            in zip(predicted_forces(model, frames), reference, strict=True)]


def frame_rmse(errors: list[np.ndarray]) -> np.ndarray:
    """[n_frames] root mean square of each frame's force errors, in their unit."""
    return np.array([np.sqrt(np.mean(error ** 2)) for error in errors])


def frame_force_rmse_ev_per_angstrom(model: str, frames: list,
                                     reference: list[np.ndarray] | None = None) -> np.ndarray:
    """Force RMSE of ``model`` (float64) on each frame, eV/Å, against ``reference`` (default:
    the frame's stored forces)."""
    return frame_rmse(force_errors_ev_per_angstrom(model, frames, reference))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="extended XYZ file with reference forces (eV/Å)")
    parser.add_argument("--models", nargs="+", required=True,
                        help="shipped model names or model files")
    parser.add_argument("--worst", type=int, default=10,
                        help="how many worst frames to report for each model")
    parser.add_argument("--reference", help="measure against this model's forces instead of "
                        "the stored ones (shipped model name or model file)")
    args = parser.parse_args()
    frames = read(args.data, ":")
    reference = predicted_forces(args.reference, frames) if args.reference else None
    errors = {model: frame_force_rmse_ev_per_angstrom(model, frames, reference)
              for model in args.models}
    against = f"{args.reference}'s forces" if args.reference else "the stored forces"
    print(f"{args.data}: {len(frames)} frames; per-frame force RMSE [meV/Å] against {against}\n")
    print(f"| model | median | 90 % | 99 % | largest | overall RMSE | share of squared "
          f"error in worst {args.worst} frames |")
    print("|---|---|---|---|---|---|---|")
    for model, error in errors.items():
        values = MEV_PER_EV * np.array([np.median(error), np.quantile(error, 0.9),
                                        np.quantile(error, 0.99), error.max(),
                                        np.sqrt(np.mean(error ** 2))])
        worst = np.sort(error ** 2)[-args.worst:].sum() / (error ** 2).sum()
        print(f"| {model} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {worst:.2f} |")
    for model, error in errors.items():
        others = [other for name, other in errors.items() if name != model]
        listed = []
        for i in np.argsort(-error)[:args.worst]:
            values = " / ".join(f"{MEV_PER_EV * e[i]:.1f}" for e in [error, *others])
            listed.append(f"{i}: {values}")
        print(f"\n{model}, worst frames (index: meV/Å, then the other models in the order "
              f"given): {', '.join(listed)}")
    if len(args.models) == 2:
        first, second = (errors[m] for m in args.models)
        print(f"\n{args.models[0]} is worse than {args.models[1]} on "
              f"{int((first > second).sum())} of {len(frames)} frames")


if __name__ == "__main__":
    main()
