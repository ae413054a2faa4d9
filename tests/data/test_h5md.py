"""Import of H5MD files with unit conversion, built here with plain h5py."""

from __future__ import annotations

from pathlib import Path

import ase.units
import h5py
import numpy as np
import pytest

from potentials.cli import main
from potentials.data import DataFormatError, TrajectoryFile
from potentials.data.convert import ReadOptions, convert, input_kind
from potentials.data.h5md import read_h5md_frames
from potentials.data.h5md_units import conversion_factor
from potentials.data.species import parse_species

N_STEPS, N_ATOMS = 4, 9
KJ_PER_MOL = ase.units.kJ / ase.units.mol
KCAL_PER_MOL = ase.units.kcal / ase.units.mol


def write_h5md(path: Path, length: str = "nm", energy: str = "kJ mol-1",
               force: str = "kJ mol-1 nm-1", species: bool = True, box: str = "group",
               energy_under_group: bool = False) -> dict[str, np.ndarray]:
    """An H5MD file of N_STEPS frames of ethanol-sized particles; returns the raw values."""
    rng = np.random.default_rng(3)
    raw = {"position": rng.normal(size=(N_STEPS, N_ATOMS, 3)),
           "force": rng.normal(size=(N_STEPS, N_ATOMS, 3)),
           "energy": rng.normal(size=N_STEPS),
           "edges": 2.0 + rng.random((N_STEPS, 3))}
    with h5py.File(path, "w") as file:
        file.create_group("h5md").attrs["version"] = [1, 1]
        group = file.create_group("particles/all")
        for name, unit in (("position", length), ("force", force)):
            element = group.create_group(name)
            element["value"] = raw[name]
            element["value"].attrs["unit"] = unit
            element["step"] = np.arange(N_STEPS)
            element["time"] = 0.5 * np.arange(N_STEPS)
        if species:
            group["species"] = np.array([6, 6, 8, 1, 1, 1, 1, 1, 1])
        box_group = group.create_group("box")
        box_group.attrs["dimension"] = 3
        box_group.attrs["boundary"] = np.array([b"periodic"] * 3)
        if box == "group":
            box_group["edges/value"] = raw["edges"]
            box_group["edges/value"].attrs["unit"] = length
        else:
            box_group["edges"] = raw["edges"][0]
            box_group["edges"].attrs["unit"] = length
        where = "observables/all/potential_energy" if energy_under_group else \
            "observables/potential_energy"
        file[f"{where}/value"] = raw["energy"]
        file[f"{where}/value"].attrs["unit"] = energy
    return raw


@pytest.mark.parametrize(("length", "length_factor"), [
    ("nm", 10.0), ("Angstrom", 1.0), ("pm", 0.01), ("Bohr", ase.units.Bohr)])
@pytest.mark.parametrize(("energy", "energy_factor"), [
    ("kJ mol-1", KJ_PER_MOL), ("kcal mol-1", KCAL_PER_MOL), ("eV", 1.0),
    ("Hartree", ase.units.Hartree)])
def test_units_are_converted(tmp_path: Path, length: str, length_factor: float, energy: str,
                             energy_factor: float) -> None:
    path = tmp_path / "md.h5md"
    raw = write_h5md(path, length=length, energy=energy, force=f"{energy} {length}-1")
    frames = list(read_h5md_frames(path))
    assert len(frames) == N_STEPS
    for k, frame in enumerate(frames):
        np.testing.assert_allclose(frame.positions_angstrom, raw["position"][k] * length_factor,
                                   rtol=1e-14)
        np.testing.assert_allclose(frame.energy_ev, raw["energy"][k] * energy_factor,
                                   rtol=1e-14)
        np.testing.assert_allclose(frame.forces_ev_per_angstrom,
                                   raw["force"][k] * energy_factor / length_factor, rtol=1e-14)
        np.testing.assert_allclose(frame.cell_angstrom,
                                   np.diag(raw["edges"][k]) * length_factor, rtol=1e-14)
        assert frame.pbc.all() and frame.stress_ev_per_angstrom3 is None
        assert list(frame.atomic_numbers) == [6, 6, 8, 1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize(("unit", "quantity", "factor"), [
    ("kJ mol-1 Angstrom-1", "force", KJ_PER_MOL),
    ("kcal mol-1 Angstrom-1", "force", KCAL_PER_MOL),
    ("eV/Angstrom", "force", 1.0),
    ("Hartree/Bohr", "force", ase.units.Hartree / ase.units.Bohr),
    ("kJ/mol/nm", "force", KJ_PER_MOL / 10),
    ("kJ mol^-1 nm^-1", "force", KJ_PER_MOL / 10),
    ("Å", "length", 1.0),
])
def test_unit_spellings(unit: str, quantity: str, factor: float) -> None:
    assert conversion_factor(unit, quantity, "f.h5", "x") == pytest.approx(factor, rel=1e-14)


@pytest.mark.parametrize(("unit", "quantity", "message"), [
    ("furlong", "length", "unknown length unit 'furlong'"),
    ("kJ", "energy", "unit 'kJ' is not a unit of energy"),
    ("eV", "force", "not a unit of force"),
    ("nm/", "length", "unknown length unit 'nm/'"),
])
def test_bad_units(unit: str, quantity: str, message: str) -> None:
    with pytest.raises(DataFormatError, match=message):
        conversion_factor(unit, quantity, "f.h5", "x")


def test_unknown_unit_in_file_names_file_field_and_unit(tmp_path: Path) -> None:
    path = tmp_path / "md.h5md"
    write_h5md(path, energy="Rydberg")
    with pytest.raises(DataFormatError, match=r"md.h5md: field '/observables/potential_energy/"
                       r"value': unknown energy unit 'Rydberg'"):
        list(read_h5md_frames(path))


def test_constant_box_energy_under_group_and_species_option(tmp_path: Path) -> None:
    path = tmp_path / "md.h5md"
    raw = write_h5md(path, species=False, box="constant", energy_under_group=True)
    with pytest.raises(DataFormatError, match="--species"):
        list(read_h5md_frames(path))
    frames = list(read_h5md_frames(path, species=parse_species("C2OH6")))
    assert list(frames[0].atomic_numbers) == [6, 6, 8, 1, 1, 1, 1, 1, 1]
    for frame in frames:
        np.testing.assert_allclose(frame.cell_angstrom, 10 * np.diag(raw["edges"][0]))
    with pytest.raises(DataFormatError, match=r"gives \(3,\) elements for 9 atoms"):
        list(read_h5md_frames(path, species=parse_species("C,C,O")))


def test_mismatched_force_shape(tmp_path: Path) -> None:
    path = tmp_path / "md.h5md"
    write_h5md(path)
    with h5py.File(path, "a") as file:
        del file["particles/all/force/value"]
        file["particles/all/force/value"] = np.zeros((N_STEPS - 1, N_ATOMS, 3))
    with pytest.raises(DataFormatError, match=r"force/value': shape \(3, 9, 3\), expected"):
        list(read_h5md_frames(path))


def test_convert_detects_h5md_by_content(tmp_path: Path) -> None:
    path = tmp_path / "run.data"
    raw = write_h5md(path)
    assert input_kind(path) == "h5md"
    assert convert([path], tmp_path / "out.h5", ReadOptions()) == N_STEPS
    with TrajectoryFile(tmp_path / "out.h5") as trajectory:
        assert trajectory.names == ["run"]
        np.testing.assert_allclose(trajectory[2].positions, 10 * raw["position"][2])
        assert trajectory.read_frame(2).source_file == "run.data"


@pytest.mark.parametrize("command", [["info", "{path}"],
                                     ["md", "--structure", "{path}", "--steps", "1"]])
def test_h5md_given_where_a_trajectory_is_read_says_to_convert(
        tmp_path: Path, capsys: pytest.CaptureFixture, command: list[str]) -> None:
    path = tmp_path / "run.h5"
    write_h5md(path)
    assert main([part.format(path=path) for part in command]) == 1
    error = capsys.readouterr().err
    assert f"{path}: an H5MD file" in error
    assert f"potentials convert {path} -o run-converted.h5" in error
