"""Energy ASE's EMT takes from atom pairs beyond a model's cutoff, per config_type.

A model with cutoff r_c cannot see pairs farther apart than r_c. EMT's smooth cutoff reaches
about 5.9 Å, so this measures what a model misses: for every frame of an HDF5 trajectory
file, the EMT energy minus the EMT energy with every pair beyond ``--cutoff`` dropped. The
part that is the same for every atom of an element is absorbed by the model's per-element
energies (E0s), so the table also gives what is left after fitting E0s to the tail as
training fits them to energies (`fit_e0s`). Both in meV/atom, mean and spread per
config_type; and the mean absolute force component the dropped pairs exert, in meV/Å.

Usage: ``python benchmarks/emt_cutoff_tail.py runs/cuau_data/cuau_test.h5 --cutoff 5.5``
"""

from __future__ import annotations

import argparse

import ase
import numpy as np
from ase.calculators.emt import EMT

from potentials.data import TrajectoryFile
from potentials.data.statistics import fit_e0s
from potentials.text_table import fixed_width_table
from potentials.train.evaluate import NO_CONFIG_TYPE
from potentials.units import MEV_PER_EV


class TruncatedEMT(EMT):
    """EMT without the pairs farther apart than ``cutoff_angstrom``."""

    def __init__(self, cutoff_angstrom: float) -> None:
        super().__init__()
        self.cutoff_angstrom = cutoff_angstrom

    def _get_neighbors(self, a1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        neighbours, vectors, distances = super()._get_neighbors(a1)
        near = distances < self.cutoff_angstrom
        return neighbours[near], vectors[near], distances[near]


def tail(atoms: ase.Atoms, cutoff_angstrom: float) -> tuple[float, np.ndarray]:
    """EMT energy [eV] and [n_atoms, 3] forces [eV/Å] of ``atoms`` minus those without the
    pairs beyond ``cutoff_angstrom``."""
    results = []
    for calculator in (EMT(), TruncatedEMT(cutoff_angstrom)):
        copy = atoms.copy()
        copy.calc = calculator
        results.append((copy.get_potential_energy(), copy.get_forces()))
    (energy, forces), (near_energy, near_forces) = results
    return energy - near_energy, forces - near_forces


def tail_table(path: str, cutoff_angstrom: float) -> list[list[str]]:
    """Rows (config_type, frames, energy tail mean/std and after-E0s mean/std in meV/atom,
    force tail MAE in meV/Å) of ``path``."""
    with TrajectoryFile(path) as file:
        kinds = np.array([kind or NO_CONFIG_TYPE for kind in file.config_types()])
        frames = list(file)
    tails = [tail(atoms, cutoff_angstrom) for atoms in frames]
    tails_ev = np.array([energy for energy, _ in tails])
    force_mae = np.array([MEV_PER_EV * np.abs(forces).mean() for _, forces in tails])
    elements = sorted({z for atoms in frames for z in atoms.numbers})
    counts = np.array([[np.count_nonzero(atoms.numbers == z) for z in elements]
                       for atoms in frames], dtype=float)
    per_element_ev = fit_e0s(counts, tails_ev, sum_over_ranks=lambda local: local)
    n_atoms = counts.sum(axis=1)
    energy = MEV_PER_EV * tails_ev / n_atoms
    left = MEV_PER_EV * (tails_ev - counts @ per_element_ev) / n_atoms
    rows = []
    for kind in dict.fromkeys(kinds):
        mine = kinds == kind
        weights = n_atoms[mine]  # the force MAE over all atoms of this kind
        rows.append([kind, str(int(mine.sum())), f"{energy[mine].mean():+.4f}",
                     f"{energy[mine].std():.4f}", f"{left[mine].mean():+.4f}",
                     f"{left[mine].std():.4f}",
                     f"{np.average(force_mae[mine], weights=weights):.4f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="HDF5 trajectory file of structures EMT can compute")
    parser.add_argument("--cutoff", type=float, default=5.5, help="model cutoff in Å")
    args = parser.parse_args()
    header = ["config_type", "frames", "tail mean [meV/atom]", "tail std [meV/atom]",
              "after E0s mean [meV/atom]", "after E0s std [meV/atom]", "force MAE [meV/Å]"]
    print(fixed_width_table([header, *tail_table(args.data, args.cutoff)], align_right=True))


if __name__ == "__main__":
    main()
