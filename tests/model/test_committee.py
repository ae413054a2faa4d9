"""Committee models: the mean of their members and their spread, through files, the
calculator and the CLI."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.calculators.calculator import PropertyNotImplementedError

from potentials import EquiCalculator
from potentials.cli import main
from potentials.graph import from_atoms
from potentials.model import EquivariantPotential, ModelFileError, load_model, predict, save_model
from potentials.model.committee import (
    CommitteePotential,
    predict_members_in_turn,
    predict_with_spread,
)
from potentials.model.io import save_committee
from potentials.model.registry import cutoff_text
from potentials.train.config import ConfigError, load_config
from potentials.train.trainer import Trainer
from tests.builders import SMALL_CONFIGS, STATISTICS, make_model, random_structure

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def member_files(tmp_path):
    """Two differently built members with the same cutoff and elements, saved to files."""
    paths = [tmp_path / "vector.model", tmp_path / "layers.model"]
    save_model(make_model("vector-hidden"), paths[0])
    save_model(make_model("three-layers-l2"), paths[1])
    return paths


def test_energies_forces_and_stress_are_the_members_means(member_files, tmp_path):
    members = [load_model(path) for path in member_files]
    committee = CommitteePotential(members)
    graph = from_atoms(random_structure(5, n_atoms=10, periodic=True), committee.cutoff_angstrom)
    alone = [predict(member, graph, compute_stress=True) for member in members]
    together = predict(committee, graph, compute_stress=True)
    for key in ("energies", "energy", "forces", "stress"):
        mean = 0.5 * (alone[0][key] + alone[1][key])
        torch.testing.assert_close(together[key], mean, rtol=1e-12, atol=1e-12, msg=key)
    assert not torch.allclose(alone[0]["forces"], alone[1]["forces"])


def test_members_in_turn_predict_what_the_committee_predicts(member_files):
    """One member's autograd graph at a time (the calculator's and ``evaluate``'s way) gives
    the committee's energies, forces and stress, plus the spread; a single model is
    predicted as it is."""
    committee = CommitteePotential([load_model(path) for path in member_files])
    graph = from_atoms(random_structure(7, n_atoms=10, periodic=True), committee.cutoff_angstrom)
    together = predict(committee, graph, compute_stress=True)
    in_turn = predict_members_in_turn(committee, graph, compute_stress=True)
    assert {"energy_uncertainty", "forces_uncertainty"} <= in_turn.keys()
    for key in ("energies", "energy", "forces", "stress"):
        torch.testing.assert_close(in_turn[key], together[key], rtol=1e-12, atol=1e-12,
                                   msg=key)
    member = committee.members[0]
    alone = predict_members_in_turn(member, graph, compute_stress=True)
    assert alone.keys() == predict(member, graph, compute_stress=True).keys()


def test_forces_are_minus_the_gradient_of_the_committee_energy(member_files):
    atoms = random_structure(8, n_atoms=7)
    atoms.calc = EquiCalculator(model=save_and_load_committee(member_files), device="cpu")
    forces = atoms.get_forces()
    step = 1e-5
    for atom, axis in [(0, 0), (3, 2), (6, 1)]:
        energies = []
        for sign in (1, -1):
            displaced = atoms.copy()
            displaced.positions[atom, axis] += sign * step
            displaced.calc = atoms.calc
            energies.append(displaced.get_potential_energy())
        assert forces[atom, axis] == pytest.approx(-(energies[0] - energies[1]) / (2 * step),
                                                   rel=1e-6, abs=1e-8)


def save_and_load_committee(member_files) -> CommitteePotential:
    path = member_files[0].parent / "committee.model"
    save_committee(member_files, path)
    return load_model(path)


def test_committee_file_round_trip_and_dtype(member_files):
    committee = save_and_load_committee(member_files)
    assert isinstance(committee, CommitteePotential) and len(committee.members) == 2
    graph = from_atoms(random_structure(2), committee.cutoff_angstrom)
    members = [load_model(path) for path in member_files]
    expected = 0.5 * sum(predict(member, graph)["energy"] for member in members)
    # the committee averages per-atom energies before summing them: the same sum in another order
    torch.testing.assert_close(predict(committee, graph)["energy"], expected,
                               rtol=1e-12, atol=1e-12)
    as_float32 = load_model(member_files[0].parent / "committee.model", dtype=torch.float32)
    assert {p.dtype for p in as_float32.parameters()} == {torch.float32}


def test_members_with_different_cutoffs_each_see_their_own_neighbours(member_files, tmp_path):
    """A 3.5 Å and a 5 Å member: the committee's graph has the 5 Å edges, and its energies,
    forces, stress and spread are those of each member on its own cutoff's graph."""
    torch.manual_seed(3)
    wider = dataclasses.replace(SMALL_CONFIGS["vector-hidden"], cutoff_angstrom=5.0)
    save_model(EquivariantPotential(wider, STATISTICS).double(), tmp_path / "wide.model")
    paths = [member_files[0], tmp_path / "wide.model"]
    committee = save_committee(paths, tmp_path / "mixed.model")
    assert committee.cutoff_angstrom == 5.0 and cutoff_text(committee) == "3.5 / 5"
    atoms = random_structure(6, n_atoms=12, periodic=True)
    members = [load_model(path) for path in paths]
    alone = [predict(member, from_atoms(atoms, member.cutoff_angstrom), compute_stress=True)
             for member in members]
    graph = from_atoms(atoms, 5.0)
    n_edges = [from_atoms(atoms, cutoff).edge_index.shape[1] for cutoff in (3.5, 5.0)]
    assert n_edges[0] < n_edges[1]
    assert [g.edge_index.shape[1] for g in committee.member_graphs(graph)] == n_edges
    together = predict(committee, graph, compute_stress=True)
    with_spread = predict_with_spread(committee, graph, compute_stress=True)
    for key in ("energies", "energy", "forces", "stress"):
        mean = 0.5 * (alone[0][key] + alone[1][key])
        torch.testing.assert_close(together[key], mean, rtol=1e-10, atol=1e-12, msg=key)
        torch.testing.assert_close(with_spread[key], mean, rtol=1e-10, atol=1e-12, msg=key)
    half_difference = 0.5 * (alone[0]["energy"] - alone[1]["energy"]).abs()
    torch.testing.assert_close(with_spread["energy_uncertainty"], half_difference)


def test_members_must_share_elements(member_files, tmp_path):
    other = dataclasses.replace(STATISTICS, atomic_numbers=(1, 6, 7))
    save_model(EquivariantPotential(SMALL_CONFIGS["vector-hidden"], other), tmp_path / "n.model")
    with pytest.raises(ModelFileError, match=r"atomic numbers \(1, 6, 8\), member 1 \(1, 6, 7\)"):
        save_committee([member_files[0], tmp_path / "n.model"], tmp_path / "c.model")
    with pytest.raises(ValueError, match="at least 2 members, got 1"):
        CommitteePotential([load_model(member_files[0])])


def test_a_committee_is_neither_a_member_nor_a_starting_point(member_files, tmp_path):
    committee_path = member_files[0].parent / "committee.model"
    save_committee(member_files, committee_path)
    with pytest.raises(ModelFileError, match="a committee cannot be a member"):
        save_committee([committee_path, member_files[0]], tmp_path / "c2.model")
    config = load_config(None, [f"init_from={committee_path}", f"output_dir={tmp_path / 'run'}",
                                f"data.train_files=[{FIXTURES / 'acac_5.xyz'}]"])
    with pytest.raises(ConfigError, match="is a committee of 2 models"):
        Trainer(config, show_progress=False)


def test_cli_writes_a_committee_the_calculator_uses(member_files, tmp_path, capsys):
    output = tmp_path / "cli.model"
    assert main(["committee", *map(str, member_files), "-o", str(output)]) == 0
    assert "a committee of 2 models (H C O, cutoff 3.5 Å)" in capsys.readouterr().out
    assert main(["committee", *map(str, member_files), "-o", str(output)]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    atoms = random_structure(4)
    atoms.calc = EquiCalculator(model=str(output), device="cpu")
    energy = atoms.get_potential_energy()
    singles = []
    for path in member_files:
        atoms.calc = EquiCalculator(model=str(path), device="cpu")
        singles.append(atoms.get_potential_energy())
    assert energy == pytest.approx(np.mean(singles), rel=1e-12)


def test_spread_is_the_members_standard_deviation(member_files):
    members = [load_model(path) for path in member_files] + [make_model("scalar-hidden")]
    committee = CommitteePotential(members)
    graph = from_atoms(random_structure(6, n_atoms=9, periodic=True), committee.cutoff_angstrom)
    spread = predict_with_spread(committee, graph, compute_stress=True)
    together = predict(committee, graph, compute_stress=True)
    for key in together:
        torch.testing.assert_close(spread[key], together[key], rtol=1e-12, atol=1e-12, msg=key)
    alone = [predict(member, graph) for member in members]
    energies = np.array([float(one["energy"][0].detach()) for one in alone])
    forces = np.stack([one["forces"].detach().numpy() for one in alone])  # [3, n_atoms, 3]
    energy_spread = float(spread["energy_uncertainty"][0].detach())
    assert energy_spread == pytest.approx(energies.std(), rel=1e-10)
    by_hand = np.sqrt(((forces - forces.mean(0)) ** 2).sum(-1).mean(0))  # [n_atoms]
    np.testing.assert_allclose(spread["forces_uncertainty"].detach().numpy(), by_hand,
                               rtol=1e-10)
    assert by_hand.min() > 0


def test_copies_of_one_member_agree_exactly(member_files):
    member = load_model(member_files[0])
    committee = CommitteePotential([member, copy.deepcopy(member)])
    graph = from_atoms(random_structure(7), committee.cutoff_angstrom)
    spread = predict_with_spread(committee, graph)
    assert float(spread["energy_uncertainty"][0].detach()) == 0.0
    assert float(spread["forces_uncertainty"].abs().max()) == 0.0


def test_calculator_reports_a_rotation_invariant_spread(member_files):
    committee = save_and_load_committee(member_files)
    atoms = random_structure(3, n_atoms=8)
    atoms.calc = EquiCalculator(model=committee, device="cpu")
    energy_spread = atoms.calc.get_property("energy_uncertainty", atoms)
    forces_spread = atoms.calc.get_property("forces_uncertainty", atoms)
    assert energy_spread > 0 and forces_spread.shape == (8,)
    moved = atoms.copy()
    moved.rotate(73, (1, 2, 0.5), center="COM")
    moved.translate((0.3, -1.0, 2.0))
    moved.calc = EquiCalculator(model=committee, device="cpu")
    assert moved.calc.get_property("energy_uncertainty", moved) == pytest.approx(
        energy_spread, rel=1e-9)
    np.testing.assert_allclose(moved.calc.get_property("forces_uncertainty", moved),
                               forces_spread, rtol=1e-9)
    batched = atoms.calc.evaluate([moved, atoms])
    assert batched[1]["energy_uncertainty"] == pytest.approx(energy_spread, rel=1e-12)
    np.testing.assert_allclose(batched[0]["forces_uncertainty"], forces_spread, rtol=1e-9)


def test_a_single_model_has_no_spread(member_files):
    atoms = random_structure(3)
    atoms.calc = EquiCalculator(model=str(member_files[0]), device="cpu")
    atoms.get_potential_energy()
    assert "forces_uncertainty" not in atoms.calc.results
    with pytest.raises(PropertyNotImplementedError, match="energy_uncertainty"):
        atoms.calc.get_property("energy_uncertainty", atoms)
