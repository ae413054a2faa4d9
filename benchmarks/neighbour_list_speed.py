"""Neighbour-list build time against atom count: vesin, matscipy and ASE.

Random positions in a periodic cubic box at liquid-like density (0.1 atoms/Å³, about that of
liquid water), cutoff 5 Å (about 52 neighbours per atom), full lists with integer cell shifts.
Prints the best of several repeats per size and the time per atom, which is flat for an O(N)
algorithm. Pair counts are cross-checked between the libraries.

Usage: ``python benchmarks/neighbour_list_speed.py [--max-atoms 100000] [--budget-s 20]``
(matscipy is not a dependency of the package: ``pip install matscipy`` first).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from ase.neighborlist import neighbor_list as ase_neighbor_list
from matscipy.neighbours import neighbour_list as matscipy_neighbour_list

from potentials.graph import neighbour_list as vesin_neighbour_list

DENSITY_PER_ANGSTROM3 = 0.1
CUTOFF_ANGSTROM = 5.0


def box(n_atoms: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random positions [n_atoms, 3] in a cubic cell [3, 3] at the benchmark density."""
    length = (n_atoms / DENSITY_PER_ANGSTROM3) ** (1 / 3)
    rng = np.random.default_rng(seed)
    return rng.uniform(0, length, (n_atoms, 3)), length * np.eye(3)


def run_vesin(positions: np.ndarray, cell: np.ndarray) -> int:
    return len(vesin_neighbour_list(positions, cell, np.ones(3, bool), CUTOFF_ANGSTROM)[0])


def run_matscipy(positions: np.ndarray, cell: np.ndarray) -> int:
    i, _, _ = matscipy_neighbour_list("ijS", positions=positions, cell=cell,
                                      pbc=np.ones(3, bool), cutoff=CUTOFF_ANGSTROM)
    return len(i)


def run_ase(positions: np.ndarray, cell: np.ndarray) -> int:
    from ase import Atoms

    atoms = Atoms(f"Ar{len(positions)}", positions=positions, cell=cell, pbc=True)
    return len(ase_neighbor_list("i", atoms, CUTOFF_ANGSTROM))


LIBRARIES: dict[str, Callable[[np.ndarray, np.ndarray], int]] = {
    "vesin": run_vesin, "matscipy": run_matscipy, "ase": run_ase}


def best_time_s(function: Callable[[np.ndarray, np.ndarray], int], positions: np.ndarray,
                cell: np.ndarray, repeats: int) -> tuple[float, int]:
    """Best wall time over ``repeats`` calls, and the pair count of the last call."""
    best, pairs = float("inf"), 0
    for _ in range(repeats):
        start = time.perf_counter()
        pairs = function(positions, cell)
        best = min(best, time.perf_counter() - start)
    return best, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-atoms", type=int, default=100_000)
    parser.add_argument("--budget-s", type=float, default=20.0,
                        help="stop timing a library at larger sizes once one build takes this")
    args = parser.parse_args()
    sizes = [n for n in (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000) if n <= args.max_atoms]
    print(f"density {DENSITY_PER_ANGSTROM3} atoms/Å³, cutoff {CUTOFF_ANGSTROM} Å, periodic cube;"
          " best of repeats")
    header = "| atoms | pairs |" + "".join(f" {name} ms | {name} µs/atom |" for name in LIBRARIES)
    print(header)
    print("|" + "---|" * (2 + 2 * len(LIBRARIES)))
    stopped: set[str] = set()
    for n_atoms in sizes:
        positions, cell = box(n_atoms)
        repeats = 5 if n_atoms <= 10_000 else 2
        row, counts = [f"{n_atoms}"], {}
        for name, function in LIBRARIES.items():
            if name in stopped:
                row += ["skipped", "-"]
                continue
            seconds, counts[name] = best_time_s(function, positions, cell, repeats)
            row += [f"{1e3 * seconds:.2f}", f"{1e6 * seconds / n_atoms:.2f}"]
            if seconds > args.budget_s / 4:
                stopped.add(name)
        if len(set(counts.values())) != 1:
            raise AssertionError(f"pair counts differ at {n_atoms} atoms: {counts}")
        row.insert(1, f"{next(iter(counts.values()))}")
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
