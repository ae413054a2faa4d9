"""The plain-h5py example of docs/hdf5-format.md writes a file our reader reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from potentials.data import TrajectoryFile

DOC = Path(__file__).parents[2] / "docs" / "hdf5-format.md"


def python_blocks() -> list[str]:
    """The ```python blocks of the format document, in order."""
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_doc_example_writes_a_valid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    write_example, read_example = python_blocks()[:2]
    exec(compile(write_example, str(DOC), "exec"), {})
    with TrajectoryFile("example.h5") as trajectory:
        assert trajectory.names == ["molecules", "crystal"]
        assert list(trajectory.frame_atom_counts()) == [3, 5, 2]
        water, copper = trajectory.read_frame(0), trajectory.read_frame(2)
        assert water.energy_ev == -14.2 and water.stress_ev_per_angstrom3 is None
        assert water.temperature_kelvin == 300.0 and water.config_type == "md"
        assert copper.temperature_kelvin is None and copper.pbc.all()
        assert [trajectory.read_frame(k).weight for k in range(3)] == [1.0, 0.5, 1.0]
        np.testing.assert_array_equal(copper.stress_ev_per_angstrom3, 0.01 * np.eye(3))
        assert trajectory[1].get_chemical_formula() == "CH4"
    exec(compile(read_example, str(DOC), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "3" and lines[-1] == "0.5"
