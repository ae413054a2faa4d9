"""benchmarks/energy_bias.py: mean and spread of the signed per-atom energy error per
config_type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np

from potentials import EquiCalculator
from potentials.data import write_atoms
from potentials.model import save_model
from potentials.units import MEV_PER_EV
from tests.builders import make_model

ROOT = Path(__file__).parent.parent


def test_signed_errors_per_config_type(tmp_path: Path) -> None:
    model = tmp_path / "tiny.model"
    save_model(make_model("vector-hidden"), model)
    frames = ase.io.read(ROOT / "tests" / "fixtures" / "acac_5.xyz", ":")
    for atoms, kind in zip(frames, ["a", "b", "a", "a", "b"], strict=True):
        atoms.info["config_type"] = kind
    data = tmp_path / "data.h5"
    write_atoms(data, frames)
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "energy_bias.py"),
                          str(data), "--model", str(model)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = {line.split()[1]: line.split()[2:] for line in run.stdout.splitlines()[1:]}
    calculator = EquiCalculator(str(model), device="cpu")
    for kind, indices in (("a", [0, 2, 3]), ("b", [1, 4])):
        errors = [MEV_PER_EV * (calculator.get_potential_energy(frames[k])
                                - frames[k].get_potential_energy()) / len(frames[k])
                  for k in indices]
        assert rows[kind] == [str(len(indices)), f"{np.mean(errors):+.3f}",
                              f"{np.std(errors):.3f}"]
