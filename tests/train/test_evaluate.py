"""``potentials evaluate``: metrics that match a direct computation, table and parity plots."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest

from potentials import EquiCalculator
from potentials.cli import main
from potentials.data import TrajectoryFile
from potentials.data.convert import ReadOptions
from potentials.graph import batch_graphs, from_atoms
from potentials.model import save_model
from potentials.train.data_setup import ensure_hdf5
from potentials.train.evaluate import NO_CONFIG_TYPE, evaluate_model
from potentials.train.metrics import ErrorAccumulator
from tests.builders import make_model
from tests.train.conftest import FIXTURES


def test_metrics_match_a_direct_computation(tmp_path):
    model_path = tmp_path / "m.model"
    save_model(make_model("vector-hidden"), model_path)
    data = FIXTURES / "acac_5.xyz"
    (evaluation,) = evaluate_model(str(model_path), [str(data)], batch_size=2,
                                   cache_dir=str(tmp_path / "cache"), progress=False)
    frames = ase.io.read(data, ":")
    calculator = EquiCalculator(str(model_path), device="cpu")
    energy_errors, force_errors = [], []
    for atoms in frames:
        energy_errors.append(calculator.get_potential_energy(atoms)
                             - atoms.get_potential_energy())
        force_errors.append(calculator.get_forces(atoms) - atoms.get_forces())
    energy_errors, force_errors = np.array(energy_errors), np.concatenate(force_errors)
    metrics = evaluation.metrics
    assert evaluation.n_frames == 5
    np.testing.assert_allclose(metrics["energy_mae_mev"], 1000 * np.abs(energy_errors).mean(),
                               rtol=1e-9)
    np.testing.assert_allclose(metrics["energy_per_atom_rmse_mev"],
                               1000 * np.sqrt(np.mean((energy_errors / 15) ** 2)), rtol=1e-9)
    np.testing.assert_allclose(metrics["forces_rmse_mev_per_angstrom"],
                               1000 * np.sqrt(np.mean(force_errors**2)), rtol=1e-9)
    numbers = np.concatenate([atoms.numbers for atoms in frames])
    by_element = evaluation.errors.summary_by_element()
    assert list(by_element) == [1, 6, 8]  # H, C, O of acetylacetone, in increasing order
    for number, element in by_element.items():
        mine = force_errors[numbers == number]
        assert element["atoms"] == len(mine)
        np.testing.assert_allclose(element["forces_mae_mev_per_angstrom"],
                                   1000 * np.abs(mine).mean(), rtol=1e-9)
        np.testing.assert_allclose(element["forces_rmse_mev_per_angstrom"],
                                   1000 * np.sqrt(np.mean(mine**2)), rtol=1e-9)


def test_command_prints_a_table_and_writes_plots(tmp_path, capsys):
    model_path = tmp_path / "m.model"
    save_model(make_model("vector-hidden"), model_path)
    status = main(["evaluate", "--model", str(model_path), str(FIXTURES / "cu_au_emt.xyz"),
                   str(FIXTURES / "acac_5.xyz"), "--plots", str(tmp_path / "plots"),
                   "--cache-dir", str(tmp_path / "cache")])
    assert status == 1  # Cu and Au are not elements of this model: a one-line error
    assert "not trained on element(s) ['Au', 'Cu']" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(model_path), str(FIXTURES / "acac_5.xyz"),
                 "--plots", str(tmp_path / "plots"), "--cache-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "forces_rmse [meV/Å]" in table and "acac_5.xyz" in table
    per_element = table.split("force errors per element:\n")[1].splitlines()
    # header, then one row per element of acetylacetone: 5 frames of 8 H, 5 C and 2 O atoms
    assert [row.split()[1:3] for row in per_element[1:4]] == [["H", "40"], ["C", "25"],
                                                                ["O", "10"]]
    assert (tmp_path / "plots" / "parity_acac_5.png").stat().st_size > 1000


def test_errors_per_config_type_are_those_of_its_frames_alone(tmp_path):
    model_path = tmp_path / "m.model"
    save_model(make_model("vector-hidden"), model_path)
    frames = ase.io.read(FIXTURES / "acac_5.xyz", ":")
    kinds = ["a", "b", "a", None, "a"]
    for atoms, kind in zip(frames, kinds, strict=True):
        atoms.info.pop("config_type", None)
        if kind is not None:
            atoms.info["config_type"] = kind
    everything = tmp_path / "all.xyz"
    ase.io.write(everything, frames)
    with TrajectoryFile(ensure_hdf5(str(everything), ReadOptions(), str(tmp_path))) as file:
        assert file.config_types() == kinds

    def evaluated(path):
        (evaluation,) = evaluate_model(str(model_path), [str(path)], batch_size=2,
                                       cache_dir=str(tmp_path / "cache"), progress=False)
        return evaluation

    whole = evaluated(everything)
    assert list(whole.config_type_metrics) == ["a", "b", NO_CONFIG_TYPE]  # first appearance
    for kind, name in (("a", "a"), ("b", "b"), (None, NO_CONFIG_TYPE)):
        alone = tmp_path / f"{name}.xyz"
        ase.io.write(alone, [f for f, k in zip(frames, kinds, strict=True) if k == kind])
        expected = evaluated(alone)
        n_frames, metrics = whole.config_type_metrics[name]
        assert n_frames == expected.n_frames == kinds.count(kind)
        assert metrics.keys() == expected.metrics.keys()
        for key, value in metrics.items():
            np.testing.assert_allclose(value, expected.metrics[key], rtol=1e-9)
    # frames batched by config_type keep their own per-frame errors, in file order
    calculator = EquiCalculator(str(model_path), device="cpu")
    energy_errors = [1000 * abs(calculator.get_potential_energy(atoms)
                                - atoms.get_potential_energy()) / len(atoms) for atoms in frames]
    np.testing.assert_allclose(whole.frame_energy_errors_mev_per_atom, energy_errors,
                               rtol=1e-9)
    for name, kind in (("untyped", None), ("one_kind", "a")):  # no table: the file row says it
        for atoms in frames:
            atoms.info.pop("config_type", None)
            if kind is not None:
                atoms.info["config_type"] = kind
        ase.io.write(tmp_path / f"{name}.xyz", frames)
        assert evaluated(tmp_path / f"{name}.xyz").config_type_metrics == {}


def test_per_element_sums_add_up_over_processes():
    """Two processes holding the same errors: counts double, MAE and RMSE stay."""
    graph = batch_graphs([from_atoms(atoms, 3.0, with_labels=True)
                          for atoms in ase.io.read(FIXTURES / "acac_5.xyz", ":2")])
    predicted = {"energy": graph.energy + 0.01, "forces": graph.forces + 0.02 * graph.pos}
    errors = ErrorAccumulator(by_element=True)
    errors.add(predicted, graph)
    alone = errors.summary_by_element()
    errors.sum_over_ranks(lambda local: 2 * local)
    together = errors.summary_by_element()
    assert together.keys() == alone.keys() == {1, 6, 8}
    for number, element in alone.items():
        assert together[number]["atoms"] == 2 * element["atoms"]
        for key in ("forces_mae_mev_per_angstrom", "forces_rmse_mev_per_angstrom"):
            assert together[number][key] == pytest.approx(element[key], rel=1e-12)
