"""Selecting members of a committee by name, ``NAME[k]`` or ``NAME[i,j]``: the calculator,
``potentials evaluate`` and ``potentials md``/``relax`` then run only those members."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from potentials import EquiCalculator
from potentials.cli import main
from potentials.model import load_model, save_model
from potentials.model.io import save_committee
from potentials.model.registry import load_named_model, split_member_selection
from potentials.train.config import ConfigError, load_config
from potentials.train.trainer import Trainer
from tests.builders import make_model, random_structure
from tests.conftest import FIXTURES

MEMBER_NAMES = ("vector-hidden", "three-layers-l2", "scalar-hidden")


@pytest.fixture
def members(tmp_path: Path) -> list[Path]:
    """Three differently built members, saved to files."""
    paths = [tmp_path / f"member{number}.model" for number in (1, 2, 3)]
    for name, path in zip(MEMBER_NAMES, paths, strict=True):
        save_model(make_model(name), path)
    return paths


@pytest.fixture
def committee(members: list[Path]) -> Path:
    path = members[0].parent / "committee.model"
    save_committee(members, path)
    return path


def energy_and_forces(model: str | Path) -> tuple[float, np.ndarray]:
    atoms = random_structure(3, n_atoms=9)
    atoms.calc = EquiCalculator(model=str(model), device="cpu")
    return atoms.get_potential_energy(), atoms.get_forces()


def test_one_member_is_that_model_alone(members, committee):
    calculator = EquiCalculator(model=f"{committee}[2]", device="cpu")
    assert not calculator.is_committee
    assert "forces_uncertainty" not in calculator.implemented_properties
    energy, forces = energy_and_forces(f"{committee}[2]")
    energy_alone, forces_alone = energy_and_forces(members[1])
    assert energy == energy_alone
    np.testing.assert_array_equal(forces, forces_alone)


def test_several_members_are_the_committee_of_those_members(members, committee, tmp_path):
    save_committee([members[2], members[0]], tmp_path / "pair.model")
    energy, forces = energy_and_forces(f"{committee}[3, 1]")
    energy_pair, forces_pair = energy_and_forces(tmp_path / "pair.model")
    assert energy == pytest.approx(energy_pair, rel=1e-13, abs=1e-12)
    np.testing.assert_allclose(forces, forces_pair, rtol=1e-12, atol=1e-12)
    energy_all, _ = energy_and_forces(committee)
    assert energy != pytest.approx(energy_all, rel=1e-9)


@pytest.mark.parametrize(("selection", "message"), [
    ("[4]", r"member 4 does not exist: the committee has 3 members, numbered 1 to 3"),
    ("[0]", r"member 0 does not exist"),
    ("[2,2]", r"member 2 is selected more than once"),
    ("[]", r"numbers separated by commas, e\.g\. .*committee\.model\[1\]"),
    ("[one]", r"numbers separated by commas"),
])
def test_a_bad_selection_is_named(committee, selection, message):
    model = f"{committee}{selection}"
    with pytest.raises(ValueError, match=rf"model '{re.escape(model)}': .*{message}"):
        load_named_model(model)


def test_a_single_model_has_no_members_to_select(members):
    with pytest.raises(ValueError, match=r"member1\.model is a single model, not a committee"):
        load_named_model(f"{members[0]}[1]")


def test_a_file_named_with_brackets_is_a_file(committee, tmp_path):
    odd = tmp_path / "run[2].model"
    shutil.copy(committee, odd)
    assert split_member_selection(str(odd)) == (str(odd), None)
    assert len(load_named_model(odd).members) == 3


def test_cli_evaluates_a_member_alone(members, committee, tmp_path, capsys):
    def table(model: Path | str) -> str:
        plots = tmp_path / f"plots{len(list(tmp_path.glob('plots*')))}"
        assert main(["evaluate", "--model", str(model), str(FIXTURES / "acac_5.xyz"),
                     "--plots", str(plots), "--cache-dir", str(tmp_path / "cache")]) == 0
        return capsys.readouterr().out.splitlines()[1]
    assert table(f"{committee}[3]") == table(members[2])
    assert table(f"{committee}[3]") != table(committee)


def test_cli_refuses_to_build_a_committee_from_selected_members(members, committee, tmp_path,
                                                                 capsys):
    assert main(["committee", f"{committee}[1]", str(members[1]),
                 "-o", str(tmp_path / "c.model")]) == 1
    assert "not from members of another committee" in capsys.readouterr().err
    assert not (tmp_path / "c.model").exists()


def fine_tuning_trainer(init_from: str, output_dir: Path) -> Trainer:
    return Trainer(load_config(None, [f"init_from={init_from}", f"output_dir={output_dir}",
                                      f"data.train_files=[{FIXTURES / 'acac_5.xyz'}]",
                                      "data.valid_fraction=0.4"]),
                   show_progress=False)


def test_fine_tuning_starts_from_one_selected_member(members, committee, tmp_path):
    trainer = fine_tuning_trainer(f"{committee}[2]", tmp_path / "run")
    member = load_model(members[1])
    assert trainer.model.config == member.config
    for key, value in member.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[key], value), key
    with pytest.raises(ConfigError, match=r"a committee of 2 models; start from one of them, "
                                          r"e\.g\. .*committee\.model\[1\]"):
        fine_tuning_trainer(f"{committee}[1,3]", tmp_path / "run2")
