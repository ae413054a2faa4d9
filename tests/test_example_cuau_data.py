"""The Cu–Au EMT dataset example: a tiny run checked against the format and against EMT."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from ase.calculators.emt import EMT

from potentials.data import TrajectoryFile

SCRIPT = Path(__file__).parents[1] / "examples" / "generate_cuau_data.py"
CONFIG_TYPES = {"bulk", "strained", "vacancy", "surface"}
FAST_SAMPLING = ["--frames", "12", "--equilibration-steps", "10", "--interval-steps", "5"]


def load_script() -> ModuleType:
    """The example script imported as a module, without running it.

    It is registered in `sys.modules` first, as its dataclasses need.
    """
    spec = importlib.util.spec_from_file_location("generate_cuau_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script()


def generate(script: ModuleType, path: Path, seed: int) -> Path:
    """Run the script's main function for a few frames into ``path``."""
    assert script.main(["--output", str(path), "--seed", str(seed), *FAST_SAMPLING]) == 0
    return path


@pytest.fixture(scope="module")
def dataset(script: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(script, tmp_path_factory.mktemp("cuau") / "cuau.h5", seed=0)


def test_frames_are_periodic_and_fully_labelled(dataset: Path) -> None:
    with TrajectoryFile(dataset) as file:
        frames = list(file.iter_frames())
    assert len(frames) == 12
    for frame in frames:
        assert frame.pbc.all()
        assert abs(np.linalg.det(frame.cell_angstrom)) > 0.0
        assert frame.energy_ev is not None
        assert frame.forces_ev_per_angstrom is not None
        assert frame.stress_ev_per_angstrom3 is not None
        assert 300.0 <= frame.temperature_kelvin <= 1400.0
    assert {frame.config_type for frame in frames} == CONFIG_TYPES
    assert set(np.concatenate([frame.atomic_numbers for frame in frames]).tolist()) == {29, 79}


def test_labels_are_those_of_emt(dataset: Path) -> None:
    with TrajectoryFile(dataset) as file:
        stored = file[len(file) - 1]  # a surface slab
    fresh = stored.copy()
    fresh.calc = EMT()
    np.testing.assert_allclose(stored.get_forces(), fresh.get_forces(), rtol=0, atol=1e-10)
    assert stored.get_potential_energy() == pytest.approx(fresh.get_potential_energy(),
                                                          abs=1e-10)
    np.testing.assert_allclose(stored.get_stress(), fresh.get_stress(), rtol=0, atol=1e-10)


def test_same_seed_gives_the_same_file(
    script: ModuleType, dataset: Path, tmp_path: Path
) -> None:
    again = generate(script, tmp_path / "again.h5", seed=0)
    with TrajectoryFile(dataset) as first, TrajectoryFile(again) as second:
        assert len(first) == len(second)
        for k in range(len(first)):
            np.testing.assert_array_equal(first.read_frame(k).positions_angstrom,
                                          second.read_frame(k).positions_angstrom)


def test_frame_counts_follow_the_mix(script: ModuleType) -> None:
    assert script.frame_counts(1000) == {"bulk": 400, "strained": 250, "vacancy": 150,
                                         "surface": 200}
    for n_frames in range(4, 30):
        counts = script.frame_counts(n_frames)
        assert sum(counts.values()) == n_frames
        assert min(counts.values()) >= 1


def test_strains_stay_within_four_percent(script: ModuleType) -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        strain = script.random_strain_tensor(rng)
        np.testing.assert_array_equal(strain, strain.T)
        assert np.abs(strain).max() <= script.MAX_STRAIN


def test_every_cell_and_slab_builds(script: ModuleType) -> None:
    rng = np.random.default_rng(0)
    for cubic, repetitions in script.BULK_CELLS:
        atoms = script.bulk("Cu", "fcc", a=3.61, cubic=cubic).repeat(repetitions)
        assert 27 <= len(atoms) <= 48
    for builder, size in script.SLABS:
        atoms = script.occupy(builder("Cu", size=size, a=3.8, orthogonal=True,
                                      vacuum=script.SLAB_VACUUM_ANGSTROM), 5, rng)
        assert 24 <= len(atoms) <= 48
        assert np.sum(atoms.numbers == 79) == 5
        thickness = np.ptp(atoms.positions[:, 2])
        assert atoms.cell[2, 2] - thickness >= 10.0
