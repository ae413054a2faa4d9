"""The committee distillation example: its frames carry the committee's own predictions."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import ase.io
import numpy as np
import pytest

from potentials.calculator import EquiCalculator
from potentials.data import TrajectoryFile

SCRIPT = Path(__file__).parents[1] / "examples" / "distil_committee.py"
STRUCTURES = Path(__file__).parent / "fixtures" / "ethanol_5.xyz"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("distil_committee", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def distilled(tmp_path_factory) -> tuple[list, Path]:
    """Two ethanol frames, 4 MD steps each, a snapshot every 2 steps, labelled by `ethanol`."""
    directory = tmp_path_factory.mktemp("distil")
    ase.io.write(directory / "start.xyz", ase.io.read(STRUCTURES, ":2"))
    output = directory / "distilled.h5"
    load_script().main([str(directory / "start.xyz"), "--teacher", "ethanol", "--output",
                        str(output), "--steps", "4", "--every", "2", "--seed", "3"])
    with TrajectoryFile(output) as trajectories:
        frames = list(trajectories)
    return frames, directory / "start.xyz"


def test_snapshots_per_structure_and_step(distilled):
    frames, start = distilled
    first = ase.io.read(start, ":")
    assert len(frames) == 2 * 2  # two structures, snapshots at steps 2 and 4
    # Snapshots are ordered by time, then by structure; each moved off its start, not far.
    for index, atoms in enumerate(frames):
        displacement = np.linalg.norm(atoms.positions - first[index % 2].positions, axis=1)
        assert 0 < displacement.max() < 0.2, displacement


def test_labels_are_the_committee_prediction(distilled):
    frames, _ = distilled
    calculator = EquiCalculator(model="ethanol", dtype="float64", device="cpu")
    for atoms in frames:
        labelled_energy, labelled_forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = calculator
        assert atoms.get_potential_energy() == pytest.approx(labelled_energy, abs=1e-8)
        np.testing.assert_allclose(atoms.get_forces(), labelled_forces, atol=1e-8)


def test_default_driver_is_the_teachers_first_member():
    atoms = ase.io.read(STRUCTURES, 0)
    default = load_script().driver_of("ethanol", None, "cpu").evaluate([atoms])[0]
    first = EquiCalculator(model="ethanol[1]", dtype="float32", device="cpu").evaluate([atoms])[0]
    np.testing.assert_array_equal(default["forces"], first["forces"])


def test_driver_out_of_range_names_the_member_count(tmp_path):
    with pytest.raises(ValueError, match="member 12 does not exist: the committee has 9 members"):
        load_script().main([str(STRUCTURES), "--teacher", "ethanol", "--driver", "ethanol[12]",
                            "--output", str(tmp_path / "unused.h5")])
    assert not (tmp_path / "unused.h5").exists()
