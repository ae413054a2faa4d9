"""``potentials evaluate`` options: label keys of ASE inputs, parity plots kept unless asked."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
import pytest

from potentials import EquiCalculator
from potentials.cli import main
from potentials.model import save_model
from potentials.train.evaluate import evaluate_model
from tests.builders import make_model
from tests.conftest import FIXTURES


def evaluate(model: Path, data: Path, plots: Path, *extra: str) -> int:
    return main(["evaluate", "--model", str(model), str(data), "--plots", str(plots),
                 "--cache-dir", str(plots.parent / "cache"), *extra])


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.model"
    save_model(make_model("vector-hidden"), path)
    return path


def metric_cells(table: str) -> list[str]:
    """The numbers of the table's single data row (without the file name)."""
    return table.strip().splitlines()[1].split()[1:]


def test_label_keys_name_where_ase_inputs_keep_labels(model: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    frames = ase.io.read(FIXTURES / "acac_5.xyz", ":")
    for atoms in frames:
        atoms.info["dft_energy"] = atoms.get_potential_energy()
        atoms.arrays["dft_forces"] = atoms.get_forces()
        atoms.calc = None
    relabelled = tmp_path / "relabelled.xyz"
    ase.io.write(relabelled, frames, format="extxyz")
    assert evaluate(model, FIXTURES / "acac_5.xyz", tmp_path / "a") == 0
    expected = metric_cells(capsys.readouterr().out)
    assert evaluate(model, relabelled, tmp_path / "b", "--energy-key", "dft_energy",
                    "--forces-key", "dft_forces") == 0
    assert metric_cells(capsys.readouterr().out) == expected


def test_existing_parity_plot_needs_overwrite(model: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    plot = tmp_path / "plots" / "parity_acac_5.png"
    plot.parent.mkdir()
    plot.write_text("keep me")
    assert evaluate(model, FIXTURES / "acac_5.xyz", plot.parent) == 1
    assert "parity_acac_5.png: output exists" in capsys.readouterr().err
    assert plot.read_text() == "keep me"
    assert evaluate(model, FIXTURES / "acac_5.xyz", plot.parent, "--overwrite") == 0
    assert plot.stat().st_size > 1000


def test_data_without_labels_read_is_an_error_naming_the_options(
        model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frames = ase.io.read(FIXTURES / "acac_5.xyz", ":")
    for atoms in frames:
        atoms.info["REF_energy"] = atoms.get_potential_energy()
        atoms.calc = None
    unlabelled = tmp_path / "ref_energy.xyz"
    ase.io.write(unlabelled, frames)
    assert evaluate(model, unlabelled, tmp_path / "plots") == 1
    err = capsys.readouterr().err
    assert "none of its 5 frames has an energy, forces or stress label" in err
    assert "--energy-key" in err
    assert not list((tmp_path / "plots").glob("*.png"))
    assert evaluate(model, unlabelled, tmp_path / "plots", "--energy-key", "REF_energy") == 0


def test_a_batch_size_below_one_is_an_error(model: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the batch size must be >= 1 frame, got 0"):
        evaluate_model(str(model), [str(FIXTURES / "acac_5.xyz")], batch_size=0,
                       cache_dir=str(tmp_path))


def test_per_frame_errors_and_the_worst_frames(model: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    """Each frame's |ΔE| per atom and largest per-atom |ΔF| equal those of the calculator on
    that frame alone; --worst lists frames by that force error, largest first."""
    frames = ase.io.read(FIXTURES / "acac_5.xyz", ":")
    [evaluation] = evaluate_model(str(model), [str(FIXTURES / "acac_5.xyz")], batch_size=2,
                                  cache_dir=str(tmp_path), progress=False)
    calculator = EquiCalculator(str(model), device="cpu")
    for k, atoms in enumerate(frames):
        reference_energy, reference_forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = calculator
        energy_error = abs(atoms.get_potential_energy() - reference_energy) / len(atoms)
        force_error = np.linalg.norm(atoms.get_forces() - reference_forces, axis=1).max()
        assert evaluation.frame_energy_errors_mev_per_atom[k] == pytest.approx(
            1000 * energy_error, rel=1e-9)
        assert evaluation.frame_max_force_errors_mev_per_angstrom[k] == pytest.approx(
            1000 * force_error, rel=1e-9)
    assert evaluate(model, FIXTURES / "acac_5.xyz", tmp_path / "plots", "--worst", "3") == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("the 3 frames with the largest force errors:") + 2
    listed = [int(line.split()[1]) for line in lines[start:start + 3]]
    expected = np.argsort(-evaluation.frame_max_force_errors_mev_per_angstrom)[:3]
    assert listed == expected.tolist()


def test_json_holds_the_metrics_of_the_tables(model: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "metrics" / "acac.json"
    assert evaluate(model, FIXTURES / "acac_5.xyz", tmp_path / "plots", "--json",
                    str(output)) == 0
    printed = capsys.readouterr().out
    [record] = json.loads(output.read_text())["files"]
    assert record["frames"] == 5 and record["config_types"] == {}  # one kind: the file row
    assert metric_cells(printed) == ["5"] + [f"{value:.3f}"
                                             for value in record["metrics"].values()]
    assert {symbol: element["atoms"] for symbol, element in record["elements"].items()} == {
        "H": 40, "C": 25, "O": 10}
    assert evaluate(model, FIXTURES / "acac_5.xyz", tmp_path / "plots", "--overwrite",
                    "--json", str(output)) == 0  # replaced only when asked
    assert evaluate(model, FIXTURES / "acac_5.xyz", tmp_path / "plots", "--overwrite") == 0
    assert evaluate(model, FIXTURES / "acac_5.xyz", tmp_path / "again", "--json",
                    str(output)) == 1
    assert "acac.json: output exists" in capsys.readouterr().err
