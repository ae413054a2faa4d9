"""Training end to end on a tiny plain-h5py dataset: learning, resume, bad input."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch
import yaml
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import chemical_symbols

from potentials.data import TrajectoryFile, write_atoms
from potentials.model import load_model, predict
from potentials.train.config import ConfigError, load_config
from potentials.train.data_setup import split_datasets
from potentials.train.trainer import Trainer
from tests.train.conftest import FIXTURES, rattled_copies, tiny_config


def write_config(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def read_metrics(output: Path) -> list[dict]:
    with open(output / "metrics.csv") as stream:
        return list(csv.DictReader(stream))


def test_loss_goes_down_and_outputs_are_written(acac_h5, tmp_path):
    output = tmp_path / "run"
    config = load_config(write_config(tmp_path, tiny_config(acac_h5, output)),
                         ["optim.max_epochs=10", "optim.lr=0.05"])
    model_path = Trainer(config, show_progress=False).run()
    rows = read_metrics(output)
    assert len(rows) == 10
    assert float(rows[-1]["train_loss"]) < 0.6 * float(rows[0]["train_loss"])
    assert float(rows[-1]["valid_loss"]) < float(rows[0]["valid_loss"])
    assert float(rows[-1]["valid_forces_rmse_mev_per_angstrom"]) < float(
        rows[0]["valid_forces_rmse_mev_per_angstrom"])
    for name in ("tiny.model", "best.model", "checkpoint.pt", "learning_curves.png",
                 "parity_valid.png", "summary.json", "config.yaml"):
        assert (output / name).exists(), name
    train_errors = [float(row["train_forces_rmse_mev_per_angstrom"]) for row in rows]
    assert train_errors[-1] < train_errors[0]  # the learning curve's train line has data
    model = load_model(model_path)
    assert model.statistics.atomic_numbers == (1, 6, 8)


def run_cli(config_path: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "potentials.cli", "train", str(config_path), *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def test_resume_after_kill_reproduces_uninterrupted_losses(acac_h5, tmp_path):
    epochs = 6
    straight = tmp_path / "straight"
    (tmp_path / "a").mkdir()
    config = tiny_config(acac_h5, straight, **{"optim.max_epochs": epochs})
    assert run_cli(write_config(tmp_path / "a", config)).wait() == 0
    killed = tmp_path / "killed"
    config_path = write_config(tmp_path, tiny_config(acac_h5, killed,
                                                     **{"optim.max_epochs": epochs}))
    process = run_cli(config_path)
    deadline = time.time() + 120
    while time.time() < deadline:
        if (killed / "metrics.csv").exists() and len(read_metrics(killed)) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len(read_metrics(killed))
    assert 2 <= done < epochs, "the run must be killed part way"
    resumed_run = run_cli(config_path, "--resume", "--no-progress")
    log = resumed_run.communicate()[0].decode()
    assert resumed_run.returncode == 0
    assert "batch/s" not in log and "it/s" not in log  # no bars, not even for graphs
    assert f"epoch {epochs:5d}" in log
    expected, resumed = read_metrics(straight), read_metrics(killed)
    assert len(resumed) == epochs
    for row_a, row_b in zip(expected, resumed, strict=True):
        for key in ("train_loss", "valid_loss", "valid_forces_rmse_mev_per_angstrom", "lr"):
            assert math.isclose(float(row_a[key]), float(row_b[key]), rel_tol=1e-9), key


def test_nan_loss_stops_with_epoch_and_batch_named(acac_h5, tmp_path, monkeypatch):
    output = tmp_path / "run"
    config = load_config(write_config(tmp_path, tiny_config(acac_h5, output)))
    trainer = Trainer(config, show_progress=False)
    calls = {"n": 0}
    original = trainer._train_step.__func__

    def poisoned(self, frames, batch_number, errors):
        calls["n"] += 1
        if calls["n"] == 6:  # epoch 2, batch 1 (4 batches per epoch)
            for parameter in self.model.parameters():
                parameter.data.fill_(np.nan)
        return original(self, frames, batch_number, errors)

    monkeypatch.setattr(Trainer, "_train_step", poisoned)
    with pytest.raises(FloatingPointError, match=r"epoch 2, batch 1"):
        trainer.run()
    assert len(read_metrics(output)) == 1
    assert (output / "checkpoint.pt").exists()


def test_unknown_key_suggests_the_nearest(acac_h5, tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'optim.batch_size'"):
        load_config(write_config(tmp_path, tiny_config(acac_h5, tmp_path)),
                    ["optim.batch_sise=3"])


@pytest.mark.parametrize(("override", "message"), [
    ("optim.lr=abc", "optim.lr = 'abc' is invalid: expected a number"),
    ("optim.max_epochs=2.5", "optim.max_epochs = 2.5 is invalid: expected an integer"),
    ("compile=1", "compile = 1 is invalid: expected true or false"),
    ("model.radial_hidden=64", "model.radial_hidden = 64 is invalid: expected a list of integers"),
    ("optim.max_time=[1]", r"optim.max_time = \[1\] is invalid: expected a string or a number"),
    ("optim.lr=[1,", r"--set optim.lr is not valid YAML"),
])
def test_a_value_of_the_wrong_type_is_named(acac_h5, tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, tiny_config(acac_h5, tmp_path)), [override])


def test_exponent_notation_without_a_dot_is_a_number(acac_h5, tmp_path):
    """PyYAML reads 1e-5 (no dot) as a string; a float field takes it as the number."""
    path = tmp_path / "config.yaml"
    config = tiny_config(acac_h5, tmp_path)
    path.write_text(yaml.safe_dump(config) + "loss:\n  stage_two_lr: 1e-5\n")
    assert load_config(path).loss.stage_two_lr == 1e-5


def test_one_file_name_is_a_list_of_one_file(acac_h5, tmp_path):
    config = load_config(write_config(tmp_path, tiny_config(acac_h5, tmp_path)),
                         [f"data.train_files={acac_h5}", f"data.valid_files={acac_h5}"])
    assert config.data.train_files == [str(acac_h5)]
    assert config.data.valid_files == [str(acac_h5)]


def test_a_yaml_syntax_error_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("optim:\n  lr: [0.01\n")
    with pytest.raises(ConfigError, match="broken.yaml is not valid YAML"):
        load_config(path)


@pytest.mark.parametrize("budget", [-5, 0, "0s"])
def test_a_time_budget_must_be_positive(acac_h5, tmp_path, budget):
    config = load_config(write_config(tmp_path, tiny_config(acac_h5, tmp_path / "run")),
                         [f"optim.max_time={budget}"])
    with pytest.raises(ConfigError, match="the time budget must be > 0 s"):
        Trainer(config, show_progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_validation_elements_must_be_in_training(acac_h5, tmp_path):
    other = tmp_path / "other.h5"
    atoms = ase.Atoms("HN", positions=[[0, 0, 0], [1.0, 0, 0]])

    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((2, 3)))
    write_atoms(other, [atoms])
    config = tiny_config(acac_h5, tmp_path / "run", **{"data.valid_files": [str(other)]})
    with pytest.raises(ConfigError, match=r"validation data contains element\(s\) \['N'\]"):
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False)


@pytest.mark.parametrize(("override", "message"), [
    ("loss.forces_element_weights={Xx: 2}", "'Xx' is not an element symbol"),
    ("loss.forces_element_weights={C: 0}",
     r"forces_element_weights.C = 0.0 is invalid: expected > 0"),
    ("loss.forces_element_weights=[C]", "expected a mapping of strings to numbers"),
])
def test_force_element_weights_are_checked(acac_h5, tmp_path, override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, tiny_config(acac_h5, tmp_path)), [override])


def test_force_element_weights_reach_the_loss_for_elements_in_the_data(acac_h5, tmp_path):
    path = write_config(tmp_path, tiny_config(acac_h5, tmp_path / "run"))
    config = load_config(path, ["loss.forces_element_weights={C: 4, O: 2.5}"])
    trainer = Trainer(config, show_progress=False)
    assert trainer.loss_weights().forces_by_element == ((6, 4.0), (8, 2.5))
    assert "force errors weighted per element (C 4, O 2.5; others 1)" in trainer._describe()
    config = load_config(path, ["loss.forces_element_weights={C: 4, N: 2}"])
    with pytest.raises(ConfigError, match=r"N is not in the training data \(elements: H, C, O\)"):
        Trainer(config, show_progress=False)


def labelled_kinds(path: Path, kinds: list[str]) -> Path:
    """Rattled acetylacetone frames, one per entry of ``kinds`` (their config_type)."""
    frames = rattled_copies(ase.io.read(FIXTURES / "acac_5.xyz", ":"), len(kinds))
    for atoms, kind in zip(frames, kinds, strict=True):
        atoms.info["config_type"] = kind
    write_atoms(path, frames)
    return path


def test_config_type_weights_reach_every_split_and_the_log(tmp_path):
    data = labelled_kinds(tmp_path / "water.h5", ["bulk", "surface"] * 5)
    path = write_config(tmp_path, tiny_config(data, tmp_path / "run"))
    config = load_config(path, ["data.config_type_weights={surface: 4}"])
    datasets = split_datasets(config.data, config.model.cutoff_angstrom, config.seed,
                              torch.float64)
    with TrajectoryFile(data) as file:
        kinds = file.config_types()
    for split in (datasets.train, datasets.valid):
        expected = [4.0 if kinds[k] == "surface" else 1.0 for k in split.indices]
        assert [split[k].weight.item() for k in range(len(split))] == expected
    trainer = Trainer(config, show_progress=False)
    assert "frames weighted per config_type (surface 4; others 1)" in trainer._describe()


@pytest.mark.parametrize(("override", "message"), [
    ("data.config_type_weights={vacancy: 2}",
     r"no training frame has config_type 'vacancy' \(config types: bulk, surface\)"),
    ("data.config_type_weights={surface: 0}",
     r"config_type_weights.surface = 0.0 is invalid: expected a finite number > 0"),
    ("data.config_type_weights={surface: .inf}", "expected a finite number > 0"),
])
def test_config_type_weights_are_checked(tmp_path, override, message):
    data = labelled_kinds(tmp_path / "water.h5", ["bulk", "surface"] * 5)
    path = write_config(tmp_path, tiny_config(data, tmp_path / "run"))
    with pytest.raises(ConfigError, match=message):
        Trainer(load_config(path, [override]), show_progress=False)


def test_empty_split_is_an_error(acac_h5, tmp_path):
    config = tiny_config(acac_h5, tmp_path / "run", **{"data.max_train_frames": 0})
    with pytest.raises(ConfigError, match="training split is empty"):
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False)


def test_split_seed_keeps_the_validation_frames_of_another_seed(acac_h5, tmp_path):
    def valid_positions(seed: int, split_seed: int | None) -> list[np.ndarray]:
        config = load_config(write_config(tmp_path, tiny_config(
            acac_h5, tmp_path / "run", **{"seed": seed, "data.split_seed": split_seed})))
        valid = split_datasets(config.data, config.model.cutoff_angstrom, config.seed,
                               torch.float64).valid
        return [graph.pos.numpy() for graph in valid]

    first = valid_positions(1, None)
    assert not all(np.array_equal(a, b) for a, b in zip(first, valid_positions(2, None),
                                                        strict=True))
    for a, b in zip(first, valid_positions(2, 1), strict=True):
        np.testing.assert_array_equal(a, b)


def test_forces_without_energies_needs_explicit_consent(tmp_path):
    rng = np.random.default_rng(1)
    frames = []
    for _ in range(10):
        atoms = ase.Atoms("COH", positions=[[0, 0, 0], [1.2, 0, 0], [-0.7, 0.7, 0]])
        atoms.positions += rng.normal(0, 0.05, (3, 3))
        atoms.calc = SinglePointCalculator(atoms, forces=rng.normal(0, 1, (3, 3)))
        frames.append(atoms)
    path = tmp_path / "forces_only.h5"
    write_atoms(path, frames)
    config = tiny_config(path, tmp_path / "run")
    with pytest.raises(ConfigError, match="train_on_forces_only"):
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
    config["data"]["train_on_forces_only"] = True
    config["optim"]["max_epochs"] = 1
    Trainer(load_config(write_config(tmp_path, config)), show_progress=False).run()


def test_fine_tuning_starts_from_a_trained_model(acac_h5, tmp_path):
    first = tmp_path / "first"
    config = tiny_config(acac_h5, first, **{"optim.max_epochs": 2})
    base = Trainer(load_config(write_config(tmp_path, config)), show_progress=False).run()
    tuned_dir = tmp_path / "tuned"
    config = tiny_config(acac_h5, tuned_dir, **{"optim.max_epochs": 1, "init_from": str(base),
                                                 "optim.lr": 1e-12})
    config["model"]["num_channels"] = 99  # ignored: the architecture comes from the model
    trainer = Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
    original = load_model(base)
    assert trainer.model.config == original.config
    assert trainer.model.statistics == original.statistics
    for key, value in original.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[key], value), key


def write_isolated_atoms(path: Path, energies_ev: dict[str, float]) -> Path:
    atoms = []
    for symbol, energy in energies_ev.items():
        single = Atoms(symbol)
        single.calc = SinglePointCalculator(single, energy=energy)
        atoms.append(single)
    ase.io.write(path, atoms, format="extxyz")
    return path


def test_fine_tuning_takes_the_new_data_s_isolated_atom_energies(acac_h5, tmp_path):
    """Another reference method differs by per-element constants: the E0s of
    ``data.isolated_atoms_file`` replace the start model's, every weight is kept, and the start
    model's energy moves by exactly the sum of the E0 changes over the atoms."""
    base = Trainer(load_config(write_config(tmp_path, tiny_config(
        acac_h5, tmp_path / "first", **{"optim.max_epochs": 1}))), show_progress=False).run()
    original = load_model(base)
    new_e0s = {"H": -13.0, "C": -1020.0, "O": -2030.0}
    config = tiny_config(acac_h5, tmp_path / "tuned", **{"init_from": str(base)})
    config["data"]["isolated_atoms_file"] = str(
        write_isolated_atoms(tmp_path / "e0s.xyz", new_e0s))
    trainer = Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
    tuned = trainer.model
    assert tuned.statistics.e0s_ev == (-13.0, -1020.0, -2030.0)  # H, C, O
    for key, value in original.state_dict().items():
        if key != "e0s_ev":
            assert torch.equal(tuned.state_dict()[key], value), key
    graph = trainer.splits.train[0]
    old_e0s = dict(zip(original.statistics.atomic_numbers, original.statistics.e0s_ev,
                       strict=True))
    change_ev = sum(new_e0s[chemical_symbols[z]] - old_e0s[z]
                    for z in graph.atomic_numbers.tolist())
    energies = [float(predict(model, graph, compute_forces=False)["energy"].detach())
                for model in (original, tuned)]
    assert energies[1] - energies[0] == pytest.approx(change_ev, abs=1e-9)

    config["data"]["isolated_atoms_file"] = str(
        write_isolated_atoms(tmp_path / "no_oxygen.xyz", {"H": -13.0, "C": -1020.0}))
    config["output_dir"] = str(tmp_path / "tuned_again")
    with pytest.raises(ConfigError, match="no_oxygen.xyz: no isolated-atom energy for O"):
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False)


def test_validation_loss_does_not_depend_on_the_batch_size(mixed_h5, tmp_path):
    config = load_config(write_config(tmp_path, tiny_config(mixed_h5, tmp_path / "run")))
    trainer = Trainer(config, show_progress=False)
    losses = []
    for size in (1, 3, 20):
        trainer.config.optim.valid_batch_size = size
        losses.append(trainer.evaluate_graphs(trainer.splits.train)[0])
    assert losses[1] == pytest.approx(losses[0], rel=1e-12)
    assert losses[2] == pytest.approx(losses[0], rel=1e-12)


def test_an_existing_run_is_not_overwritten(acac_h5, tmp_path):
    config = tiny_config(acac_h5, tmp_path / "run", **{"optim.max_epochs": 1})
    Trainer(load_config(write_config(tmp_path, config)), show_progress=False).run()
    with pytest.raises(ConfigError, match="already holds a training run"):
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
    config["data"].update(in_memory=False, num_workers=1)  # loading only: resumable
    Trainer(load_config(write_config(tmp_path, config)), resume=True, show_progress=False)
    config["model"]["num_channels"] = 5
    with pytest.raises(ConfigError, match=r"differs .* \['model.num_channels'\]"):
        Trainer(load_config(write_config(tmp_path, config)), resume=True, show_progress=False)


def test_resume_with_fewer_epochs_anneals_to_the_new_end(acac_h5, tmp_path):
    config = tiny_config(acac_h5, tmp_path / "run", **{"optim.max_epochs": 20})
    config["optim"].update(scheduler="cosine", lr=0.01, min_lr=1e-5)
    config["loss"] = {"stage_two_start": None}
    first = Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
    first._should_stop = lambda: "killed" if first.state.epoch >= 2 else None
    first.run()
    config["optim"]["max_epochs"] = 4
    Trainer(load_config(write_config(tmp_path, config)), resume=True, show_progress=False).run()
    rates = [float(row["lr"]) for row in read_metrics(tmp_path / "run")]
    assert len(rates) == 4
    assert rates[1] > rates[2] > rates[3]
    assert rates[3] < 0.35 * rates[0]  # 3/4 into a 4-epoch cosine; 0.97 if still 20 epochs


def test_float32_run_is_evaluated_in_float64_at_the_end(acac_h5, tmp_path):
    config = tiny_config(acac_h5, tmp_path / "run", **{"dtype": "float32", "optim.max_epochs": 2})
    trainer = Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
    trainer.run()
    assert trainer.splits.train[0].pos.dtype == torch.float32  # not read again
    model = load_model(tmp_path / "run" / "best.model", dtype=torch.float64)
    valid = split_datasets(trainer.config.data, trainer.config.model.cutoff_angstrom,
                           trainer.config.seed, torch.float64).valid
    errors = []
    for graph in valid:
        assert graph.pos.dtype == torch.float64
        predicted = predict(model, graph)
        errors.append(float(predicted["energy"].detach() - graph.energy))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["valid"]["energy_mae_mev"] == pytest.approx(
        1000 * np.mean(np.abs(errors)), rel=1e-9)


def test_lazy_loading_with_workers_trains_identically(mixed_h5, tmp_path):
    rows = []
    for name, lazy in (("memory", {}), ("lazy", {"data.in_memory": False,
                                                 "data.num_workers": 2})):
        config = tiny_config(mixed_h5, tmp_path / name, **{"optim.max_epochs": 2}, **lazy)
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False).run()
        rows.append(read_metrics(tmp_path / name))
    for in_memory, lazy in zip(*rows, strict=True):
        for key in ("train_loss", "valid_loss"):
            assert float(lazy[key]) == pytest.approx(float(in_memory[key]), rel=1e-12)


@pytest.mark.parametrize("reset", [False, True])
def test_stage_two_can_restart_the_optimiser_moments(acac_h5, tmp_path, reset):
    """With the reset, Adam's step count (and so its moments) covers stage two only."""
    output = tmp_path / f"run_{reset}"
    config = load_config(write_config(tmp_path, tiny_config(acac_h5, output)),
                         ["optim.max_epochs=4", "loss.stage_two_start=0.5",
                          f"loss.stage_two_reset_optimizer={str(reset).lower()}"])
    trainer = Trainer(config, show_progress=False)
    trainer.run()
    batches_per_epoch = math.ceil(len(trainer.splits.train) / config.optim.batch_size)
    steps = {int(state["step"]) for state in trainer.optimizer.state.values()}
    assert steps == {(2 if reset else 4) * batches_per_epoch}


def _half_cosine(start_lr: float, min_lr: float, fraction: float) -> float:
    return min_lr + (start_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * min(fraction, 1.0)))


def test_time_cosine_anneals_each_stage_to_the_end_of_max_time(acac_h5, tmp_path):
    """Each epoch's rate follows the time the one before ended at; stage two restarts it.

    A first run of one epoch measures the slow first epoch; the resumed run gets a budget
    that leaves seconds for each stage, which also checks that a resume moves the end.
    """
    lr, min_lr, stage_two_lr = 0.01, 1e-5, 0.002
    config = tiny_config(acac_h5, tmp_path / "run", **{"optim.max_epochs": 1})
    config["optim"].update(scheduler="cosine_time", max_time="1h", lr=lr, min_lr=min_lr)
    config["loss"] = {"stage_two_start": 0.5, "stage_two_lr": stage_two_lr}
    Trainer(load_config(write_config(tmp_path, config)), show_progress=False).run()
    # several epochs per stage even when a busy machine slows some epochs down
    budget_s = 6 * float(read_metrics(tmp_path / "run")[0]["time_s"]) + 6.0
    config["optim"].update(max_epochs=10_000, max_time=f"{budget_s}s")
    Trainer(load_config(write_config(tmp_path, config)), resume=True, show_progress=False).run()
    rows = read_metrics(tmp_path / "run")
    times = [float(row["time_s"]) for row in rows]
    two = [int(row["stage"]) for row in rows].index(2)
    # metrics.csv rounds times to 10 ms: an epoch ending within 5 ms of a limit may print on it
    rounding_s = 0.005
    assert times[-1] + rounding_s >= budget_s > times[-2] - rounding_s
    assert times[two - 1] + rounding_s >= 0.5 * budget_s > times[two - 2] - rounding_s
    expected = [lr, _half_cosine(lr, min_lr, times[0] / 3600)]
    expected += [_half_cosine(lr, min_lr, t / budget_s) for t in times[1:two - 1]]
    stage_two_s = times[two - 1]
    expected += [stage_two_lr] + [
        _half_cosine(stage_two_lr, min_lr, (t - stage_two_s) / (budget_s - stage_two_s))
        for t in times[two:-1]]
    # in 10 ms of rounding the rate changes by less than 2e-5
    assert [float(row["lr"]) for row in rows] == pytest.approx(expected, abs=5e-5)


def test_time_cosine_needs_a_time_budget(acac_h5, tmp_path):
    config = tiny_config(acac_h5, tmp_path / "run")
    config["optim"]["scheduler"] = "cosine_time"
    with pytest.raises(ConfigError, match=r"optim.max_time = None .*'cosine_time'"):
        load_config(write_config(tmp_path, config))


def test_isolated_atom_energies_must_cover_the_training_elements(acac_h5, tmp_path):
    config = tiny_config(acac_h5, tmp_path / "run")
    config["data"]["isolated_atoms_file"] = str(
        write_isolated_atoms(tmp_path / "e0s.xyz", {"H": -13.6}))
    with pytest.raises(ValueError, match="the isolated-atom energies lack C, O, which the "
                                         "training data contains"):
        Trainer(load_config(write_config(tmp_path, config)), show_progress=False)
