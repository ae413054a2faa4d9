"""MD stability of a shipped model: long Langevin runs of molecules, NPT runs of crystals.

Molecules (default acac): Langevin at 600 K, 0.5 fs, 20 ps. Every 100 steps the bonds (pairs
closer than 1.2 times the sum of covalent radii) are checked: a bond between heavy atoms that
disappears or appears, a hydrogen farther than 1.5 bond lengths from every heavy atom or bonded
to another H, or an atom farther than 10 Å from the centre of mass counts as a failure. A
hydrogen moving from one heavy atom to another (acac's O-H...O proton transfer) is chemistry
and is counted, not failed.
Crystals (``--npt``): MTK NPT at the given temperature and pressure; reports mean volume,
temperature and whether the structure stayed intact (no two atoms closer than 1.5 Å).

Usage: ``python benchmarks/md_stability.py --model acac [--temperature 600 --ps 20] [--compile]``
       ``python benchmarks/md_stability.py --model cuau --npt --temperature 900 --ps 20``
"""

from __future__ import annotations

import argparse
import time

import ase
import ase.io
import numpy as np
from ase.data import covalent_radii
from tqdm import tqdm

from potentials import EquiCalculator
from potentials.md.options import MDOptions
from potentials.md.runner import build_dynamics, initialise_velocities
from potentials.model.registry import resolve_model_path, shipped_structure


def bond_length_ratios(atoms: ase.Atoms) -> np.ndarray:
    """[N, N] distances divided by the sums of the two atoms' covalent radii."""
    radii = covalent_radii[atoms.numbers]
    return atoms.get_all_distances() / (radii[:, None] + radii[None, :])


def bonds(atoms: ase.Atoms) -> set[tuple[int, int]]:
    """Pairs (i < j) closer than 1.2 times the sum of their covalent radii."""
    bonded = bond_length_ratios(atoms) < 1.2
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(bonded, k=1)), strict=True)}


def hydrogen_partners(atoms: ase.Atoms) -> dict[int, tuple[int, float]]:
    """H index -> (nearest heavy atom, distance to it / sum of their covalent radii)."""
    ratio = bond_length_ratios(atoms)
    heavy = np.flatnonzero(atoms.numbers != 1)
    partners = {}
    for h in np.flatnonzero(atoms.numbers == 1):
        nearest = heavy[np.argmin(ratio[h, heavy])]
        partners[int(h)] = (int(nearest), float(ratio[h, nearest]))
    return partners


def molecule_check(atoms: ase.Atoms, reference: set[tuple[int, int]],
                   partners: dict[int, tuple[int, float]]) -> str | None:
    """Why the molecule is broken, or None; ``partners`` are its `hydrogen_partners`.

    Bonds between heavy atoms must stay as in ``reference``. Each H must stay within 1.5 times
    the bond length of some heavy atom and must not bond to another H; which heavy atom may
    change (a proton transfer, such as acac's O-H...O tautomerism, is chemistry).
    """
    hydrogens = set(partners)
    current = bonds(atoms)
    heavy = {pair for pair in current if not set(pair) & hydrogens}
    heavy_reference = {pair for pair in reference if not set(pair) & hydrogens}
    if heavy != heavy_reference:
        lost, new = sorted(heavy_reference - heavy), sorted(heavy - heavy_reference)
        return f"heavy-atom bonds changed: lost {lost}, new {new}"
    if pairs := sorted(pair for pair in current if set(pair) <= hydrogens):
        return f"H-H bonds {pairs}"
    for h, (nearest, ratio) in partners.items():
        if ratio > 1.5:
            return f"H {h} is {ratio:.2f} bond lengths from its nearest heavy atom {nearest}"
    distance = np.linalg.norm(atoms.positions - atoms.get_center_of_mass(), axis=1).max()
    if distance > 10.0:
        return f"an atom is {distance:.1f} Å from the centre of mass"
    return None


def crystal_check(atoms: ase.Atoms) -> str | None:
    distances = atoms.get_all_distances(mic=True)
    np.fill_diagonal(distances, np.inf)
    if distances.min() < 1.5:
        return f"two atoms are {distances.min():.2f} Å apart"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="acac")
    parser.add_argument("--structure")
    parser.add_argument("--npt", action="store_true")
    parser.add_argument("--temperature", type=float, default=600.0, help="K")
    parser.add_argument("--pressure", type=float, default=0.0, help="GPa (npt)")
    parser.add_argument("--ps", type=float, default=20.0, help="simulated time in ps")
    parser.add_argument("--timestep", type=float, help="fs (default 0.5, npt 2.0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", action="store_true",
                        help="compiled calculator (same numbers, about half the time per step "
                        "on a small molecule)")
    args = parser.parse_args()
    timestep = args.timestep or (2.0 if args.npt else 0.5)
    steps = int(round(args.ps * 1000 / timestep))
    atoms = ase.io.read(args.structure or shipped_structure(resolve_model_path(args.model)))
    atoms.calc = EquiCalculator(model=args.model, compile=args.compile)
    options = MDOptions("npt" if args.npt else "nvt", args.temperature, args.pressure,
                        timestep, steps, friction_per_fs=0.01, seed=args.seed)
    initialise_velocities(atoms, options)
    dynamics = build_dynamics(atoms, options)
    reference = bonds(atoms)
    partners = hydrogen_partners(atoms)
    temperatures, volumes, failure, start = [], [], None, time.perf_counter()
    transfers = 0
    bar = tqdm(total=steps, unit="step", smoothing=0.1)
    for done in range(0, steps, 100):
        dynamics.run(min(100, steps - done))
        temperatures.append(atoms.get_temperature())
        volumes.append(atoms.get_volume() / len(atoms) if args.npt else np.nan)
        if args.npt:
            failure = crystal_check(atoms)
        else:
            now = hydrogen_partners(atoms)
            failure = molecule_check(atoms, reference, now)
            transfers += sum(now[h][0] != partners[h][0] for h in now)
            partners = now
        if failure:
            failure = f"at {(done + 100) * timestep / 1000:.2f} ps: {failure}"
            break
        bar.update(min(100, steps - done))
        bar.set_postfix(T_K=f"{temperatures[-1]:.0f}", transfers=transfers)
    bar.close()
    wall = time.perf_counter() - start
    kind = f"NPT {args.pressure} GPa" if args.npt else "Langevin"
    print(f"{args.model}: {kind} at {args.temperature} K, {steps} steps of {timestep} fs "
          f"({args.ps} ps) in {wall:.0f} s")
    print(f"mean temperature {np.mean(temperatures):.1f} K" + (
        f", volume {np.mean(volumes):.3f} ± {np.std(volumes):.3f} Å³/atom" if args.npt else ""))
    if not args.npt:
        print(f"hydrogen transfers between heavy atoms (nearest heavy atom, every 100 "
              f"steps): {transfers}")
    print("stable: no failure" if failure is None else f"UNSTABLE {failure}")


if __name__ == "__main__":
    main()
