"""Force errors against the length of an intramolecular O-H...O hydrogen bond.

A model trained on one temperature meets, at a higher one, geometries its training frames
never had. In a molecule with an O-H...O bond (acetylacetone's enol), the plainest such
coordinate is the distance from the bridging hydrogen to the acceptor oxygen: it opens
when the O-H group rotates away. For every frame this takes the hydrogen nearest to an
oxygen (the bridging one) and its distance to the nearest *other* oxygen, finds the range
of that distance in the reference (training) frames, and reports which share of the
model's squared force error lies in the frames outside that range, the force RMSE inside
and outside it, and the share of each element. ``--plot`` draws each frame's force RMSE
against the distance, with the reference range shaded.

Usage: ``python benchmarks/hydrogen_bond_errors.py --model acac --data
../shared/data/acac/train_600K.xyz --reference ../shared/data/acac/train_300K.xyz [--plot
FILE.png]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from ase.io import read

from potentials.units import MEV_PER_EV

sys.path.insert(0, str(Path(__file__).parent))
from frame_errors import force_errors_ev_per_angstrom, frame_rmse  # noqa: E402

HYDROGEN, OXYGEN = 1, 8


def acceptor_distance_angstrom(atoms: Atoms) -> float:
    """Distance (Å) from the hydrogen nearest to any oxygen to the nearest other oxygen."""
    hydrogens = np.flatnonzero(atoms.numbers == HYDROGEN)
    oxygens = np.flatnonzero(atoms.numbers == OXYGEN)
    if len(hydrogens) == 0 or len(oxygens) < 2:
        raise ValueError(f"{atoms.get_chemical_formula()}: an O-H...O bond needs at least one H "
                         f"and two O atoms")
    distances = np.linalg.norm(atoms.positions[hydrogens, None] - atoms.positions[None, oxygens],
                               axis=-1)  # [n_H, n_O]
    bridging = np.argmin(distances.min(axis=1))
    return float(np.sort(distances[bridging])[1])


def print_shares(errors: list[np.ndarray], frames: list[Atoms], outside: np.ndarray) -> None:
    """Share of the squared force error and force RMSE inside/outside the reference range,
    and each element's share."""
    squared = np.array([np.sum(error ** 2) for error in errors])
    components = np.array([error.size for error in errors])
    total = squared.sum()
    print("| frames | count | share of squared force error | force RMSE [meV/Å] |")
    print("|---|---|---|---|")
    for label, mask in (("inside the reference range", ~outside),
                        ("outside it", outside), ("all", np.ones_like(outside))):
        if mask.any():
            rmse = MEV_PER_EV * np.sqrt(squared[mask].sum() / components[mask].sum())
            print(f"| {label} | {int(mask.sum())} | {squared[mask].sum() / total:.2f} "
                  f"| {rmse:.1f} |")
    numbers = np.concatenate([frame.numbers for frame in frames])
    per_atom = np.concatenate([np.sum(error ** 2, axis=1) for error in errors])
    shares = ", ".join(f"{chemical_symbols[z]} {per_atom[numbers == z].sum() / total:.2f}"
                       for z in np.unique(numbers))
    print(f"\nshare of the squared force error by element: {shares}")


def plot(path: str, distance: np.ndarray, frame_rmse_mev: np.ndarray,
         reference_range: tuple[float, float], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    axes.axvspan(*reference_range, color="tab:green", alpha=0.15,
                 label="range in the reference frames")
    axes.scatter(distance, frame_rmse_mev, s=8)
    axes.set_xlabel("bridging H to acceptor O distance [Å]")
    axes.set_ylabel("frame force RMSE [meV/Å]")
    axes.set_yscale("log")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"plot: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="shipped model name or model file")
    parser.add_argument("--data", required=True, help="extended XYZ with reference forces (eV/Å)")
    parser.add_argument("--reference", required=True,
                        help="extended XYZ of the frames the model was trained on")
    parser.add_argument("--plot", help="PNG of per-frame force RMSE against the distance")
    args = parser.parse_args()
    frames = read(args.data, ":")
    reference = np.array([acceptor_distance_angstrom(a) for a in read(args.reference, ":")])
    low, high = float(reference.min()), float(reference.max())
    distance = np.array([acceptor_distance_angstrom(a) for a in frames])
    outside = (distance < low) | (distance > high)
    print(f"bridging H to acceptor O: {low:.3f}-{high:.3f} Å in {len(reference)} reference "
          f"frames, {distance.min():.3f}-{distance.max():.3f} Å in {len(frames)} frames of "
          f"{args.data}\n")
    errors = force_errors_ev_per_angstrom(args.model, frames)
    print_shares(errors, frames, outside)
    if args.plot:
        title = f"{args.model} on {Path(args.data).name}"
        plot(args.plot, distance, MEV_PER_EV * frame_rmse(errors), (low, high), title)


if __name__ == "__main__":
    main()
