"""The graph, neighbour-list and autograd path reproduce ASE's analytic Lennard-Jones."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.lj import LennardJones as AseLennardJones

from potentials.graph import from_atoms
from potentials.model import LennardJones, predict
from tests.builders import random_structure

SIGMA, EPSILON, CUTOFF = 1.1, 0.013, 3.3


@pytest.mark.parametrize("periodic", [False, True])
def test_matches_ase(periodic):
    atoms = random_structure(21, n_atoms=10, periodic=periodic)
    if periodic:  # a triclinic cell narrower than twice the cutoff: many images per pair
        assert atoms.cell.lengths().min() < 2 * CUTOFF
    atoms.calc = AseLennardJones(sigma=SIGMA, epsilon=EPSILON, rc=CUTOFF, smooth=False)
    model = LennardJones(epsilon_ev=EPSILON, sigma_angstrom=SIGMA, cutoff_angstrom=CUTOFF)
    result = predict(model, from_atoms(atoms, CUTOFF), compute_stress=periodic)
    energy = atoms.get_potential_energy()
    assert abs(result["energy"].item() - energy) <= 1e-10 * max(abs(energy), 1.0)
    np.testing.assert_allclose(result["energies"].detach().numpy(), atoms.get_potential_energies(),
                               atol=1e-10)
    np.testing.assert_allclose(result["forces"].detach().numpy(), atoms.get_forces(),
                               atol=1e-10)
    if periodic:
        np.testing.assert_allclose(result["stress"][0].detach().numpy(),
                                   atoms.get_stress(voigt=False), atol=1e-10)
