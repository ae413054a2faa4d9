"""Every shipped model loads and reproduces its stored reference energy and forces."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest

from potentials import EquiCalculator
from potentials.cli import main
from potentials.md.relax import relax
from potentials.model.registry import shipped_models, shipped_structure

SHIPPED = shipped_models()
REFERENCE_NAME = "reference.json"


def test_the_three_models_are_shipped():
    assert {"acac", "ethanol", "cuau"} <= set(SHIPPED)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_model_reproduces_its_reference_values(name):
    path = SHIPPED[name]
    reference = json.loads((path.parent / REFERENCE_NAME).read_text())
    atoms = ase.io.read(shipped_structure(path))
    atoms.calc = EquiCalculator(model=name, device="cpu", dtype="float64")
    assert atoms.get_potential_energy() == pytest.approx(reference["energy_ev"], abs=1e-8)
    np.testing.assert_allclose(atoms.get_forces(), reference["forces_ev_per_angstrom"],
                               atol=1e-8)
    if atoms.pbc.all():
        np.testing.assert_allclose(atoms.get_stress(), reference["stress_ev_per_angstrom3"],
                                   atol=1e-9)


def test_models_command_lists_them(capsys):
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    for name in SHIPPED:
        assert name in listing
    assert "NAME[k]" in listing


@pytest.mark.parametrize("name", ["acac", "ethanol"])
def test_a_committees_forces_are_the_mean_of_its_members_named_one_by_one(name):
    """``NAME[k]`` is member k alone: the members' forces, named one by one, average to the
    committee's, and their spread is the committee's ``forces_uncertainty``."""
    atoms = ase.io.read(shipped_structure(SHIPPED[name]))
    committee = EquiCalculator(model=name, device="cpu")
    count = len(committee.model.members)
    alone = np.stack([EquiCalculator(model=f"{name}[{k}]", device="cpu").get_forces(atoms)
                      for k in range(1, count + 1)])
    np.testing.assert_allclose(alone.mean(0), committee.get_forces(atoms), atol=1e-10)
    spread = np.sqrt(((alone - alone.mean(0)) ** 2).sum(-1).mean(0))
    np.testing.assert_allclose(spread, committee.get_property("forces_uncertainty", atoms),
                               atol=1e-10)


def test_cuau_cell_relaxation_reaches_zero_stress():
    atoms = ase.io.read(shipped_structure(SHIPPED["cuau"]))
    atoms.rattle(0.02, seed=0)
    atoms.set_cell(atoms.cell * 1.02, scale_atoms=True)
    atoms.calc = EquiCalculator(model="cuau", device="cpu", dtype="float64")
    summary = relax(atoms, fmax_ev_per_angstrom=1e-3, relax_cell=True, max_steps=300,
                    logfile=None)
    assert summary.converged, summary
    assert np.abs(atoms.get_stress()).max() < 1e-4  # eV/Å³
