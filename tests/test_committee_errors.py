"""benchmarks/committee_errors.py: a committee file stands for its members, and the row of
all of them is the error of what the committee itself predicts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np

from potentials import EquiCalculator
from potentials.model import save_model
from potentials.model.io import save_committee
from potentials.units import MEV_PER_EV
from tests.builders import make_model

ROOT = Path(__file__).parent.parent
FRAMES = ROOT / "tests" / "fixtures" / "ethanol_5.xyz"


def _run(*models: Path) -> subprocess.CompletedProcess:
    """The benchmark on the fixture frames with ``models``; output captured as text."""
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "committee_errors.py"), "--data", str(FRAMES),
         "--models", *map(str, models)],
        capture_output=True, text=True, timeout=300)


def _rows(*models: Path) -> dict[str, np.ndarray]:
    """Members of each table row -> (E RMSE, E MAE, F RMSE, F MAE) in meV and meV/Å."""
    run = _run(*models)
    assert run.returncode == 0, run.stderr
    rows = {}
    for line in run.stdout.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[1]] = np.array([float(value) for value in cells[2:]])
    return rows


def test_a_committee_stands_for_its_members(tmp_path):
    members = [tmp_path / "a.model", tmp_path / "b.model"]
    save_model(make_model("vector-hidden"), members[0])
    save_model(make_model("three-layers-l2"), members[1])
    committee = tmp_path / "c.model"
    save_committee(members, committee)

    expanded = _rows(committee)
    separate = _rows(*members)
    assert set(expanded) == {f"{committee}[1]", f"{committee}[2]",
                             f"{committee}[1] + {committee}[2]"}
    np.testing.assert_allclose(expanded[f"{committee}[1]"], separate[str(members[0])])
    np.testing.assert_allclose(expanded[f"{committee}[2]"], separate[str(members[1])])

    frames = ase.io.read(FRAMES, ":")
    results = EquiCalculator(model=committee, dtype="float64").evaluate(frames)
    pairs = list(zip(results, frames, strict=True))
    energy = np.array([r["energy"] - f.get_potential_energy() for r, f in pairs])
    forces = np.concatenate([r["forces"] - f.get_forces() for r, f in pairs])
    expected = MEV_PER_EV * np.array([np.sqrt(np.mean(energy ** 2)), np.mean(np.abs(energy)),
                                      np.sqrt(np.mean(forces ** 2)), np.mean(np.abs(forces))])
    both = expanded[f"{committee}[1] + {committee}[2]"]
    np.testing.assert_allclose(both, expected, rtol=0, atol=0.006)  # table rounds to 0.01


def test_a_model_given_twice_is_refused(tmp_path):
    model = tmp_path / "a.model"
    save_model(make_model("vector-hidden"), model)
    run = _run(model, model)
    assert run.returncode != 0
    assert f"{model} given more than once" in run.stderr
