"""``potentials info``: counts, label coverage and statistics with units."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest

from potentials.cli import main
from potentials.data import read_ase_frames, write_frames
from potentials.data.summary import summarise


@pytest.fixture
def mixed_h5(fixtures_dir: Path, tmp_path: Path) -> Path:
    path = tmp_path / "mixed.h5"
    write_frames(path, read_ase_frames(fixtures_dir / "mixed_sizes.xyz"))
    return path


def test_summary_numbers(fixtures_dir: Path, mixed_h5: Path) -> None:
    atoms = ase.io.read(fixtures_dir / "mixed_sizes.xyz", index=":")
    summary = summarise(mixed_h5)
    assert summary.n_frames == 7
    assert list(summary.atom_counts) == [len(a) for a in atoms]
    assert summary.label_frames == {"energy": 7, "forces": 6, "stress": 2, "temperature": 0,
                                   "velocities": 0}
    energies = np.array([a.get_potential_energy() for a in atoms])
    np.testing.assert_allclose(summary.energies_ev, energies)
    forces = np.concatenate([a.get_forces() for a in atoms if "forces" in a.calc.results])
    assert summary.force_rms_ev_per_angstrom == pytest.approx(np.sqrt(np.mean(forces**2)))
    assert summary.force_max_ev_per_angstrom == pytest.approx(
        np.linalg.norm(forces, axis=1).max())
    symbols = np.concatenate([a.get_chemical_symbols() for a in atoms])
    labelled = np.concatenate([a.get_chemical_symbols() for a in atoms
                               if "forces" in a.calc.results])
    by_element = summary.force_rms_by_element_ev_per_angstrom
    assert set(by_element) == set(labelled)
    for symbol, rms in by_element.items():
        assert rms == pytest.approx(np.sqrt(np.mean(forces[labelled == symbol] ** 2)))
    assert summary.element_counts == {s: int((symbols == s).sum()) for s in
                                      ("H", "C", "O", "Cu", "Au") if (symbols == s).any()}


def test_info_prints_report(mixed_h5: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["info", str(mixed_h5)]) == 0
    out = capsys.readouterr().out
    for text in ("frames: 7 in 1 trajectories", "per frame", "stress 2/7", "forces 6/7",
                 "[eV]", "[eV/atom]", "eV/Å", "config_type (frames): ", "300K_MD 2"):
        assert text in out, text


def test_info_on_a_newer_version_is_one_line(mixed_h5: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    import h5py

    with h5py.File(mixed_h5, "a") as file:
        file.attrs["format_version"] = 7
    assert main(["info", str(mixed_h5)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "format_version 7 is newer" in err
