"""Model files: exact round trip, and refusal of anything that is not plain data."""

from __future__ import annotations

import pickle

import pytest
import torch

from potentials.graph import from_atoms
from potentials.model import (
    DataStatistics,
    EquivariantPotential,
    ModelFileError,
    load_model,
    predict,
    save_model,
)
from potentials.model.io import read_model_file
from potentials.model.network import ONE_ELEMENT_BUFFERS
from tests.builders import SMALL_CONFIGS, make_model, random_structure


def test_round_trip_is_bit_for_bit(tmp_path):
    model = make_model("vector-hidden")
    path = tmp_path / "m.model"
    save_model(model, path, training_data_sha256="abc", metadata={"note": "test"})
    loaded = load_model(path)
    graph = from_atoms(random_structure(3, periodic=True), model.cutoff_angstrom)
    before = predict(model, graph, compute_stress=True)
    after = predict(loaded, graph, compute_stress=True)
    for key in ("energy", "forces", "stress"):
        assert torch.equal(before[key], after[key]), key
    assert loaded.metadata == {"note": "test"}
    assert read_model_file(path)["training_data_sha256"] == "abc"


def test_files_with_zero_dimensional_scale_and_shift_load_unchanged(tmp_path):
    """Model files written before scale and shift became one-element buffers (the shipped
    ones among them) hold them 0-d; they must load and predict exactly as before."""
    model = make_model("vector-hidden")
    path = tmp_path / "m.model"
    save_model(model, path)
    content = read_model_file(path)
    for name in ONE_ELEMENT_BUFFERS:
        content["state_dict"][name] = content["state_dict"][name].reshape(())
    torch.save(content, path)
    loaded = load_model(path)
    assert loaded.shift_ev.shape == loaded.scale_ev.shape == (1,)
    graph = from_atoms(random_structure(3, periodic=True), model.cutoff_angstrom)
    before = predict(model, graph, compute_stress=True)
    after = predict(loaded, graph, compute_stress=True)
    for key in ("energy", "forces", "stress"):
        assert torch.equal(before[key], after[key]), key


class Payload:
    def __reduce__(self):
        return (print, ("code ran while loading",))


def test_pickled_object_is_refused(tmp_path, capsys):
    model = make_model("scalar-hidden")
    path = tmp_path / "evil.model"
    save_model(model, path)
    content = torch.load(path, weights_only=True)
    content["metadata"] = Payload()
    with open(path, "wb") as stream:
        pickle.dump(content, stream)
    with pytest.raises(ModelFileError, match="refused"):
        load_model(path)
    assert "code ran" not in capsys.readouterr().out


def test_a_structure_file_given_as_model_is_named(tmp_path):
    path = tmp_path / "acac.xyz"
    path.write_text("1\n\nH 0 0 0\n")
    with pytest.raises(ModelFileError, match="acac.xyz: not a model file"):
        load_model(path)


def _rewrite(path, **changes):
    content = torch.load(path, weights_only=True)
    for key, value in changes.items():
        if value is None:
            del content[key]
        else:
            content[key] = value
    torch.save(content, path)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "m.model"
    save_model(make_model("scalar-hidden"), path)
    _rewrite(path, format_version=99)
    with pytest.raises(ModelFileError, match="newer"):
        load_model(path)


def test_missing_keys_are_named(tmp_path):
    path = tmp_path / "m.model"
    save_model(make_model("scalar-hidden"), path)
    _rewrite(path, statistics=None)
    with pytest.raises(ModelFileError, match="statistics"):
        load_model(path)


def test_weights_that_do_not_match_the_config(tmp_path):
    path = tmp_path / "m.model"
    model = make_model("scalar-hidden")
    save_model(model, path)
    state = dict(model.state_dict())
    state.pop(next(iter(state)))
    _rewrite(path, state_dict=state)
    with pytest.raises(ModelFileError, match="missing"):
        load_model(path)


def test_statistics_are_kept_in_full_precision():
    statistics = DataStatistics((1, 6, 8), (-13.568422178253735, -1026.8538996116154,
                                            -2037.796869412825), 12.1, 1.05, -4.865038214519759)
    model = EquivariantPotential(SMALL_CONFIGS["scalar-hidden"], statistics).double()
    assert model.e0s_ev.tolist() == list(statistics.e0s_ev)
    assert model.shift_ev.item() == statistics.energy_shift_ev


def test_float32_model_returns_float64_energies_with_exact_baseline():
    statistics = DataStatistics((1, 6, 8), (-13.568422178253735, -1026.8538996116154,
                                            -2037.796869412825), 12.1, 1.05, -4.865038214519759)
    model = EquivariantPotential(SMALL_CONFIGS["scalar-hidden"], statistics).float()
    assert next(model.parameters()).dtype == torch.float32
    assert model.e0s_ev.dtype == torch.float64
    assert model.e0s_ev.tolist() == list(statistics.e0s_ev)
    graph = from_atoms(random_structure(4), model.cutoff_angstrom, dtype=torch.float32)
    result = predict(model, graph)
    assert result["energy"].dtype == torch.float64
    assert result["forces"].dtype == torch.float32
