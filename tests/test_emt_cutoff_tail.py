"""benchmarks/emt_cutoff_tail.py: the EMT energy of pairs beyond a cutoff, per config_type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from ase.build import bulk, fcc111
from ase.calculators.emt import EMT

from potentials.data import write_atoms

ROOT = Path(__file__).parent.parent


def labelled(atoms, config_type: str):
    atoms.calc = EMT()
    atoms.get_potential_energy()
    atoms.info["config_type"] = config_type
    return atoms


def tail_rows(data: Path, cutoff_angstrom: float) -> dict[str, list[float]]:
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "emt_cutoff_tail.py"),
                          str(data), "--cutoff", str(cutoff_angstrom)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in run.stdout.splitlines()[1:]}


def test_tail_vanishes_beyond_emt_reach_and_not_within_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    crystal = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
    crystal.positions += rng.normal(0, 0.05, crystal.positions.shape)
    slab = fcc111("Au", size=(2, 2, 3), vacuum=7.0)
    data = tmp_path / "emt.h5"
    write_atoms(data, [labelled(crystal, "bulk"), labelled(slab, "surface")])
    beyond = tail_rows(data, 6.5)  # EMT's neighbour list ends at about 5.88 Å
    assert all(row[1:] == [0.0] * 5 for row in beyond.values())
    within = tail_rows(data, 3.0)  # between Cu's first (2.55 Å) and second (3.61 Å) shells
    assert beyond.keys() == within.keys() == {"bulk", "surface"}
    assert abs(within["bulk"][1]) > 10.0  # meV/atom: the second shell and beyond matter
    assert within["bulk"][5] > 1.0  # meV/Å: and so do their forces on displaced atoms
