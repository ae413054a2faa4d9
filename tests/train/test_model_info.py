"""``potentials info MODEL``: what a trained model file records about itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from potentials.cli import main
from potentials.model import load_model, save_model
from potentials.model.io import read_model_file, save_committee
from potentials.train.config import load_config
from potentials.train.trainer import Trainer
from tests.builders import make_model
from tests.train.conftest import tiny_config


def train(acac_h5: Path, tmp_path: Path, name: str, **changes) -> Path:
    config = tiny_config(acac_h5, tmp_path / name, **{"optim.max_epochs": 1, **changes})
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return Trainer(load_config(path), show_progress=False).run()


def rows(output: str) -> dict[str, list[str]]:
    """The member table's rows by member number (cells split on whitespace)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("member "))
    table = [line.split() for line in lines[start + 1:] if line[:1].isdigit()]
    return {cells[0]: cells for cells in table}


def test_info_names_each_member_s_training(acac_h5: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture) -> None:
    """A committee of a model trained from random weights (seed 3) and one fine-tuned from it
    (seed 5): each row holds that member's seed, parameter count and starting point; the
    training data, shared, is named once with the hash stored in the files."""
    first = train(acac_h5, tmp_path, "first")
    tuned = train(acac_h5, tmp_path, "tuned", seed=5, init_from=str(first))
    committee = tmp_path / "pair.model"
    save_committee([first, tuned], committee)
    capsys.readouterr()  # the training runs' own output
    assert main(["info", str(committee)]) == 0
    output = capsys.readouterr().out
    assert output.startswith(f"{committee}: a committee of 2 models")
    n_parameters = sum(p.numel() for p in load_model(first).parameters())
    table = rows(output)
    assert table["1"][5:7] == [f"{n_parameters:,}", "float64"]
    assert table["1"][-3:] == ["3", "-", "random"]  # seed, time budget, started from
    assert table["2"][-3:] == ["5", "-", str(first)]
    digest = read_model_file(first)["training_data_sha256"]
    assert f"trained on: {acac_h5} (sha256 {digest[:16]}…)" in output
    assert output.count("trained on") == 1

    assert main(["info", f"{committee}[2]"]) == 0
    output = capsys.readouterr().out
    assert "of which members 2 are described" in output
    assert list(rows(output)) == ["2"]


def test_a_model_saved_outside_training_says_what_is_not_recorded(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "hand.model"
    save_model(make_model("scalar-hidden"), path)
    assert main(["info", str(path)]) == 0
    output = capsys.readouterr().out
    assert rows(output)["1"][-4:] == ["-", "-", "-", "-"]  # epoch, seed, budget, start
    assert "trained on: not recorded" in output
