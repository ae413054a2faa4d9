"""benchmarks/frame_errors.py --reference: errors against another model's forces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest

from potentials import EquiCalculator
from potentials.units import MEV_PER_EV

ROOT = Path(__file__).parent.parent
FRAMES = ROOT / "tests" / "fixtures" / "ethanol_5.xyz"


def overall_rmse(*arguments: str) -> dict[str, float]:
    """Model -> the 'overall RMSE' column [meV/Å] of the benchmark's table."""
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "frame_errors.py"),
                          str(FRAMES), "--worst", "2", *arguments],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [line.strip("|").split("|") for line in run.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| model")]
    return {cells[0].strip(): float(cells[5]) for cells in rows}


def test_a_model_against_itself_has_no_error_and_against_dft_its_own():
    against_itself = overall_rmse("--models", "ethanol", "--reference", "ethanol")
    assert against_itself == {"ethanol": 0.0}
    frames = ase.io.read(FRAMES, ":")
    predicted = EquiCalculator(model="ethanol", dtype="float64").evaluate(frames)
    errors = np.concatenate([p["forces"] - f.get_forces()
                             for p, f in zip(predicted, frames, strict=True)])
    expected = MEV_PER_EV * np.sqrt(np.mean(errors ** 2))
    # The table prints one decimal.
    assert overall_rmse("--models", "ethanol")["ethanol"] == pytest.approx(expected, abs=0.051)
