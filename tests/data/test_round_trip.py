"""extxyz -> HDF5 -> ase.Atoms is bitwise exact, for every shipped fixture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ase.io
import ase.units
import numpy as np
import pytest

from potentials.data import (
    TrajectoryFile,
    TrajectoryWriter,
    read_ase_frames,
    write_atoms,
    write_frames,
)
from potentials.data.ase_frames import frame_from_atoms


def test_extxyz_round_trip_is_bitwise(extxyz_fixture: Path, tmp_path: Path,
                                      assert_same_atoms: Callable) -> None:
    expected = ase.io.read(extxyz_fixture, index=":")
    output = tmp_path / "out.h5"
    assert write_frames(output, read_ase_frames(extxyz_fixture)) == len(expected)
    with TrajectoryFile(output) as trajectory:
        assert len(trajectory) == len(expected)
        for index, atoms in enumerate(expected):
            assert_same_atoms(atoms, trajectory[index])
        for atoms, read_back in zip(expected, trajectory, strict=True):
            assert_same_atoms(atoms, read_back)


def test_metadata_round_trip(fixtures_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    write_frames(output, read_ase_frames(fixtures_dir / "acac_5.xyz"))
    with TrajectoryFile(output) as trajectory:
        atoms = trajectory[3]
    assert atoms.info["config_type"] == "300K_MD"
    assert atoms.info["source_file"] == "acac_5.xyz"
    assert "temperature_kelvin" not in atoms.info


def test_missing_labels_are_masked_not_nan(fixtures_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    write_frames(output, read_ase_frames(fixtures_dir / "mixed_sizes.xyz"))
    with TrajectoryFile(output) as trajectory:
        frames = [trajectory.read_frame(k) for k in range(len(trajectory))]
    has_stress = [f.stress_ev_per_angstrom3 is not None for f in frames]
    has_forces = [f.forces_ev_per_angstrom is not None for f in frames]
    assert has_stress == [False, True, False, False, True, False, False]
    assert has_forces == [True, True, True, False, True, True, True]  # isolated atom: energy only
    assert all(f.energy_ev is not None for f in frames)


def test_several_trajectories_keep_order_and_global_index(
    fixtures_dir: Path, tmp_path: Path, assert_same_atoms: Callable
) -> None:
    output = tmp_path / "out.h5"
    with TrajectoryWriter(output) as writer:
        writer.add_trajectory("zeta", read_ase_frames(fixtures_dir / "ethanol_5.xyz"))
        writer.add_trajectory("alpha", read_ase_frames(fixtures_dir / "acac_5.xyz"))
    acac = ase.io.read(fixtures_dir / "acac_5.xyz", index=":")
    with TrajectoryFile(output) as trajectory:
        assert trajectory.names == ["zeta", "alpha"]
        assert trajectory.trajectory_lengths() == {"zeta": 5, "alpha": 5}
        assert len(trajectory) == 10
        assert trajectory.locate(7) == (1, 2)
        assert trajectory.locate(-1) == (1, 4)
        assert_same_atoms(acac[2], trajectory[7])
        assert list(trajectory.frame_atom_counts()) == [9] * 5 + [15] * 5
        with pytest.raises(IndexError):
            trajectory[10]


@pytest.mark.parametrize("compression", ["gzip", "lzf", None])
def test_compressions_and_small_chunks(fixtures_dir: Path, tmp_path: Path,
                                       compression: str | None,
                                       assert_same_atoms: Callable) -> None:
    output = tmp_path / "out.h5"
    expected = ase.io.read(fixtures_dir / "mixed_sizes.xyz", index=":")
    with TrajectoryWriter(output, compression=compression, chunk_atoms=4,
                          chunk_frames=2) as writer:
        writer.add_trajectory("mixed", read_ase_frames(fixtures_dir / "mixed_sizes.xyz"))
    with TrajectoryFile(output) as trajectory:
        for index, atoms in enumerate(expected):
            assert_same_atoms(atoms, trajectory[index])


def test_velocities_round_trip_and_frames_without_them_read_none(
        fixtures_dir: Path, tmp_path: Path) -> None:
    """Frames 0 and 1 have no momenta: the velocities datasets appear with frame 2 (in the
    second chunk), earlier rows backfilled; ASE's velocities come back exactly."""
    images = ase.io.read(fixtures_dir / "mixed_sizes.xyz", index=":")
    rng = np.random.default_rng(0)
    for atoms in images[2:]:
        atoms.set_velocities(rng.normal(0.0, 0.1, (len(atoms), 3)))
    with TrajectoryWriter(tmp_path / "out.h5", chunk_frames=2) as writer:
        writer.add_trajectory("md", (frame_from_atoms(atoms) for atoms in images))
    with TrajectoryFile(tmp_path / "out.h5") as trajectory:
        frames = [trajectory.read_frame(k) for k in range(len(trajectory))]
        read_back = list(trajectory)
    assert [f.velocities_angstrom_per_fs is None for f in frames] == [True, True] + [False] * 5
    for atoms, back, frame in zip(images[2:], read_back[2:], frames[2:], strict=True):
        np.testing.assert_allclose(back.get_velocities(), atoms.get_velocities(), rtol=1e-14)
        np.testing.assert_allclose(frame.velocities_angstrom_per_fs,
                                   atoms.get_velocities() * ase.units.fs, rtol=1e-14)
    assert not read_back[0].has("momenta")


def test_write_atoms_with_calculator_labels(fixtures_dir: Path, tmp_path: Path,
                                            assert_same_atoms: Callable) -> None:
    images = ase.io.read(fixtures_dir / "cu_au_emt.xyz", index=":")
    assert write_atoms(tmp_path / "emt.h5", images, name="emt") == len(images)
    with TrajectoryFile(tmp_path / "emt.h5") as trajectory:
        assert trajectory.names == ["emt"]
        for atoms, read_back in zip(images, trajectory, strict=True):
            assert_same_atoms(atoms, read_back)
