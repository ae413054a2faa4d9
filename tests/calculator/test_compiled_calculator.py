"""``EquiCalculator(..., compile=True)`` gives the numbers of the eager calculator.

Compiling takes a while on a CPU, so one module-scoped calculator (a committee of a 3.5 Å
and a 5 Å member, so two compiled functions) serves every test: a periodic structure with
stress and the members' spread, then MD steps whose changing numbers of edges must reuse the
compiled code.
"""

from __future__ import annotations

import dataclasses

import ase
import numpy as np
import pytest
import torch
from ase.md.verlet import VelocityVerlet

from potentials import EquiCalculator
from potentials.graph import from_atoms
from potentials.model import EquivariantPotential
from potentials.model.committee import CommitteePotential
from tests.builders import SMALL_CONFIGS, STATISTICS, make_model, random_structure

PROPERTIES = ("energy", "forces", "stress", "energies", "energy_uncertainty",
              "forces_uncertainty")


@pytest.fixture(scope="module")
def committee() -> CommitteePotential:
    torch.manual_seed(3)
    wider = dataclasses.replace(SMALL_CONFIGS["vector-hidden"], cutoff_angstrom=5.0)
    return CommitteePotential([make_model("vector-hidden"),
                               EquivariantPotential(wider, STATISTICS).double()])


@pytest.fixture(scope="module")
def compiled(committee) -> EquiCalculator:
    return EquiCalculator(committee, device="cpu", compile=True)


def assert_same_results(atoms: ase.Atoms, ours: EquiCalculator, reference: EquiCalculator,
                        properties: tuple[str, ...]) -> None:
    for name in properties:
        np.testing.assert_allclose(ours.get_property(name, atoms),
                                   reference.get_property(name, atoms),
                                   rtol=1e-9, atol=1e-12, err_msg=name)


def test_periodic_committee_matches_the_eager_calculator(committee, compiled):
    atoms = random_structure(6, n_atoms=12, periodic=True)
    eager = EquiCalculator(committee, device="cpu")
    assert_same_results(atoms, compiled, eager, PROPERTIES)
    assert abs(compiled.get_property("stress", atoms)).max() > 0


def test_md_steps_with_changing_edges_reuse_the_compiled_code(committee, compiled):
    """Velocity Verlet moves atoms across both cutoffs; every step matches eager, and no new
    variant is compiled (the limit of one variant would raise)."""
    atoms = random_structure(9, n_atoms=12, periodic=True)
    atoms.calc = compiled
    atoms.get_forces()  # this size of structure may compile its own variant
    eager = EquiCalculator(committee, device="cpu")
    rng = np.random.default_rng(0)
    atoms.set_velocities(rng.normal(0.0, 0.3, (len(atoms), 3)))
    dynamics = VelocityVerlet(atoms, timestep=1.0 * ase.units.fs)
    edge_counts = set()
    with torch._dynamo.config.patch(recompile_limit=1):
        for _ in range(10):
            dynamics.run(1)
            edge_counts.add(tuple(from_atoms(atoms, cutoff).edge_index.shape[1]
                                  for cutoff in (3.5, 5.0)))
            assert_same_results(atoms, compiled, eager, ("energy", "forces", "stress"))
    assert len(edge_counts) > 1
