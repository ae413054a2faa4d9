"""Bad input raises a clear DataFormatError naming file, frame and field; nothing is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ase
import ase.io
import h5py
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

from potentials.data import (
    DataFormatError,
    Frame,
    TrajectoryFile,
    TrajectoryWriter,
    frame_from_atoms,
    read_ase_frames,
    write_frames,
)


def water(**changes: object) -> Frame:
    values = dict(atomic_numbers=np.array([8, 1, 1]), positions_angstrom=np.eye(3),
                  cell_angstrom=np.zeros((3, 3)), pbc=np.zeros(3, bool), energy_ev=-1.0,
                  forces_ev_per_angstrom=np.zeros((3, 3)))
    values.update(changes)
    return Frame(**values)


def assert_nothing_written(directory: Path) -> None:
    assert list(directory.iterdir()) == [], list(directory.iterdir())


@pytest.mark.parametrize(("changes", "field", "problem"), [
    ({"forces_ev_per_angstrom": np.zeros((2, 3))}, "forces", "shape (2, 3), expected (3, 3)"),
    ({"positions_angstrom": np.zeros((3, 2))}, "positions", "shape"),
    ({"cell_angstrom": np.zeros(3)}, "cell", "shape"),
    ({"stress_ev_per_angstrom3": np.zeros(4)}, "stress", "shape"),
    ({"pbc": np.zeros(2, bool)}, "pbc", "shape"),
    ({"energy_ev": float("nan")}, "energy", "NaN"),
    ({"positions_angstrom": np.full((3, 3), np.inf)}, "positions", "NaN or infinite"),
    ({"forces_ev_per_angstrom": np.full((3, 3), np.nan)}, "forces", "NaN"),
    ({"atomic_numbers": np.array([8, 1, 0])}, "atomic_numbers", "unknown element"),
    ({"atomic_numbers": np.array([8, 1, 119])}, "atomic_numbers", "atomic number 119"),
    ({"atomic_numbers": np.array([], int), "positions_angstrom": np.zeros((0, 3))},
     "atomic_numbers", "n_atoms>0"),
])
def test_bad_frame_names_file_frame_field_and_writes_nothing(
    tmp_path: Path, changes: dict, field: str, problem: str
) -> None:
    frames = [water(), water(), water(**changes)]
    with pytest.raises(DataFormatError) as caught:
        with TrajectoryWriter(tmp_path / "out.h5") as writer:
            writer.add_trajectory("t", frames, source="input.xyz")
    error = caught.value
    assert (error.path, error.frame, error.field) == ("input.xyz", 2, field)
    assert problem in str(error) and str(error).startswith("input.xyz: frame 2: field")
    assert_nothing_written(tmp_path)


def test_requested_key_absent_from_frame_3(tmp_path: Path) -> None:
    frames = []
    for k in range(5):
        atoms = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
        if k != 3:
            atoms.info["foo"] = -1.0 - k
        frames.append(atoms)
    source = tmp_path / "in.xyz"
    ase.io.write(source, frames, format="extxyz")
    output = tmp_path / "out" / "out.h5"
    output.parent.mkdir()
    with pytest.raises(DataFormatError, match=r"in.xyz: frame 3: field 'energy': requested "
                       r"energy key 'foo' is absent"):
        write_frames(output, read_ase_frames(source, energy_key="foo"))
    assert_nothing_written(output.parent)


def test_custom_keys_are_used(tmp_path: Path) -> None:
    atoms = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=2 * np.eye(3), pbc=True)
    atoms.info["dft_energy"] = -3.5
    atoms.info["dft_stress"] = np.arange(6.0)
    atoms.arrays["dft_forces"] = np.ones((2, 3))
    frame = frame_from_atoms(atoms, "dft_energy", "dft_forces", "dft_stress")
    write_frames(tmp_path / "out.h5", [frame])
    with TrajectoryFile(tmp_path / "out.h5") as trajectory:
        read = trajectory.read_frame(0)
    assert read.energy_ev == -3.5
    np.testing.assert_array_equal(read.forces_ev_per_angstrom, np.ones((2, 3)))
    np.testing.assert_array_equal(read.stress_ev_per_angstrom3,
                                  [[0, 5, 4], [5, 1, 3], [4, 3, 2]])


def test_default_keys_prefer_calculator_results_then_info_then_arrays() -> None:
    atoms = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    atoms.info["energy"] = -1.0
    atoms.arrays["forces"] = np.ones((2, 3))
    frame = frame_from_atoms(atoms)
    assert frame.energy_ev == -1.0 and frame.stress_ev_per_angstrom3 is None
    np.testing.assert_array_equal(frame.forces_ev_per_angstrom, np.ones((2, 3)))
    atoms.calc = SinglePointCalculator(atoms, energy=-2.0)
    assert frame_from_atoms(atoms).energy_ev == -2.0


def test_unknown_element_symbol_in_extxyz(tmp_path: Path) -> None:
    source = tmp_path / "bad.xyz"
    good = '2\nProperties=species:S:1:pos:R:3 energy=1.0 pbc="F F F"\nH 0 0 0\nH 0 0 1\n'
    source.write_text(good + good.replace("H 0 0 1", "Xx 0 0 1"))
    with pytest.raises(DataFormatError, match=r"bad.xyz: frame 1: ASE cannot read.*Xx"):
        write_frames(tmp_path / "out.h5", read_ase_frames(source))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.xyz"]


def test_interrupted_conversion_leaves_no_output(tmp_path: Path) -> None:
    def frames() -> Iterator[Frame]:
        for k in range(1000):
            if k == 700:
                raise KeyboardInterrupt
            yield water()

    with pytest.raises(KeyboardInterrupt):
        with TrajectoryWriter(tmp_path / "out.h5", chunk_frames=64) as writer:
            writer.add_trajectory("t", frames())
    assert_nothing_written(tmp_path)


def test_failed_final_flush_closes_the_file_and_leaves_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_flush() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with TrajectoryWriter(tmp_path / "out.h5") as writer:
            handle = writer._file
            appender = writer.begin_trajectory("t")
            appender.append(water())
            monkeypatch.setattr(appender, "flush", failing_flush)
    assert not handle.id.valid
    assert_nothing_written(tmp_path)


def test_existing_output_is_refused_unless_overwrite(tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    output.write_text("precious")
    with pytest.raises(FileExistsError, match="out.h5: output exists"):
        write_frames(output, [water()])
    assert output.read_text() == "precious"
    write_frames(output, [water()], overwrite=True)
    with TrajectoryFile(output) as trajectory:
        assert len(trajectory) == 1


def test_duplicate_trajectory_name(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="already used"):
        with TrajectoryWriter(tmp_path / "out.h5") as writer:
            writer.add_trajectory("t", [water()])
            writer.add_trajectory("t", [water()])
    assert_nothing_written(tmp_path)


@pytest.fixture
def valid_file(tmp_path: Path) -> Path:
    path = tmp_path / "valid.h5"
    write_frames(path, [water(positions_angstrom=np.eye(3) * k) for k in range(1, 300)],
                 compression=None)
    return path


def test_not_hdf5_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.h5"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(DataFormatError, match="garbage.h5: not a readable HDF5 file"):
        TrajectoryFile(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file_is_a_clear_error(valid_file: Path, fraction: float) -> None:
    data = valid_file.read_bytes()
    valid_file.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(DataFormatError, match="valid.h5"):
        with TrajectoryFile(valid_file) as trajectory:
            for index in range(len(trajectory)):
                trajectory.read_frame(index)


def test_corrupt_bytes_are_a_clear_error(valid_file: Path) -> None:
    data = bytearray(valid_file.read_bytes())
    data[2000:] = bytes(len(data) - 2000)  # zero everything after the superblock
    valid_file.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="valid.h5"):
        with TrajectoryFile(valid_file) as trajectory:
            for index in range(len(trajectory)):
                trajectory.read_frame(index)


def test_newer_format_version_is_refused(valid_file: Path) -> None:
    with h5py.File(valid_file, "a") as file:
        file.attrs["format_version"] = 2
    with pytest.raises(DataFormatError, match="format_version 2 is newer"):
        TrajectoryFile(valid_file)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda f: f.attrs.__setitem__("format", "other"), "not a potentials trajectory"),
    (lambda f: f["trajectories/default"].__delitem__("forces"), "forces': missing dataset"),
    (lambda f: f["trajectories/default/energy"].attrs.__setitem__("unit", "kcal/mol"),
     "unit attribute 'kcal/mol', expected 'eV'"),
    (lambda f: f["trajectories/default/energy"].resize((5,)), r"shape \(5,\)"),
    (lambda f: f["trajectories/default/frame_offsets"].__setitem__(3, 1), "increase strictly"),
    (lambda f: f["trajectories/default"].create_dataset("metadata/temperature",
                                                        data=np.zeros(299)).attrs.create(
        "unit", "K"), "has_temperature': missing dataset"),
    (lambda f: f["trajectories/default"].create_dataset("velocities", data=np.zeros(
        (f["trajectories/default/positions"].shape[0], 3))).attrs.create("unit", "Angstrom/fs"),
     "velocities without its partner"),
    (lambda f: (f["trajectories/default"].__delitem__("pbc"),
                f["trajectories/default"].__setitem__("pbc", np.zeros((299, 3)))),
     "pbc': dtype float64 is not of kind 'b'"),
])
def test_schema_violations_are_named(valid_file: Path, edit: object, message: str) -> None:
    with h5py.File(valid_file, "a") as file:
        edit(file)
    with pytest.raises(DataFormatError, match=message):
        TrajectoryFile(valid_file)


def test_missing_input_file(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="nope.xyz: no such file"):
        list(read_ase_frames(tmp_path / "nope.xyz"))
    with pytest.raises(DataFormatError, match="nope.h5: no such file"):
        TrajectoryFile(tmp_path / "nope.h5")
