"""Energy and forces are continuous when an atom crosses the cutoff sphere."""

from __future__ import annotations

import ase
import numpy as np
import pytest

from potentials.graph import from_atoms
from potentials.model import predict
from tests.builders import SMALL_CONFIGS, make_model


@pytest.mark.parametrize("name", list(SMALL_CONFIGS))
def test_crossing_the_cutoff_is_continuous(name):
    model = make_model(name)
    cutoff = model.cutoff_angstrom
    base = ase.Atoms("COH", positions=[[0, 0, 0], [1.2, 0, 0], [-0.6, 0.9, 0]])
    energies, forces = [], []
    for distance in cutoff + np.array([-1e-6, -1e-9, 1e-9, 1e-6]):
        atoms = base + ase.Atoms("H", positions=[[0, 0, -distance]])
        result = predict(model, from_atoms(atoms, cutoff + 0.5))
        energies.append(result["energy"].item())
        forces.append(result["forces"].detach().numpy())
    # Across the crossing (inside by 1e-9 Å to outside by 1e-9 Å) nothing jumps.
    assert abs(energies[2] - energies[1]) < 1e-9
    assert np.abs(forces[2] - forces[1]).max() < 1e-9
    # Outside the cutoff the far atom has no effect at all; just inside, almost none.
    assert energies[3] == energies[2]
    assert abs(energies[0] - energies[3]) < 1e-9
    assert np.abs(forces[0][3]).max() < 1e-9
