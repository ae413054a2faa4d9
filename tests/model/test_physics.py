"""Physical invariances and identities every model must satisfy (float64 unless stated).

Run over several architectures and over the Lennard-Jones reference model.
"""

from __future__ import annotations

import ase
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from potentials.graph import batch_graphs, from_atoms
from potentials.model import predict
from tests.builders import make_model, random_structure


def evaluate(model, atoms, dtype=torch.float64, stress=None):
    graph = from_atoms(atoms, model.cutoff_angstrom, dtype=dtype)
    stress = atoms.pbc.all() if stress is None else stress
    results = predict(model, graph, compute_stress=stress)
    return {key: value.detach().double().numpy() for key, value in results.items()}


def assert_close(actual, expected, tolerance, scale=None):
    scale = max(float(np.abs(expected).max()), 1e-3) if scale is None else scale
    error = float(np.abs(np.asarray(actual) - np.asarray(expected)).max())
    assert error <= tolerance * scale, f"error {error:.3g} > {tolerance:.1g} x {scale:.3g}"


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("reflect", [False, True])
def test_rotation_and_reflection(model_name, periodic, reflect):
    model = make_model(model_name)
    atoms = random_structure(1, periodic=periodic)
    matrix = Rotation.random(random_state=3).as_matrix() * (-1 if reflect else 1)
    rotated = atoms.copy()
    rotated.positions = atoms.positions @ matrix.T
    rotated.cell = atoms.cell.array @ matrix.T
    before, after = evaluate(model, atoms), evaluate(model, rotated)
    assert_close(after["energy"], before["energy"], 1e-10)
    assert_close(after["forces"], before["forces"] @ matrix.T, 1e-10)
    if periodic:
        assert_close(after["stress"][0], matrix @ before["stress"][0] @ matrix.T, 1e-10)


def test_rotation_float32(model_name):
    model = make_model(model_name, torch.float32)
    atoms = random_structure(2, periodic=True)
    matrix = Rotation.random(random_state=4).as_matrix()
    rotated = atoms.copy()
    rotated.positions = atoms.positions @ matrix.T
    rotated.cell = atoms.cell.array @ matrix.T
    before = evaluate(model, atoms, torch.float32)
    after = evaluate(model, rotated, torch.float32)
    assert_close(after["energy"], before["energy"], 1e-5)
    assert_close(after["forces"], before["forces"] @ matrix.T, 1e-5)


def test_translation_and_permutation(model_name):
    model = make_model(model_name)
    atoms = random_structure(5, periodic=True)
    before = evaluate(model, atoms)
    moved = atoms.copy()
    moved.positions += np.array([0.37, -1.9, 12.4])
    assert_close(evaluate(model, moved)["energy"], before["energy"], 1e-10)
    order = np.random.default_rng(0).permutation(len(atoms))
    permuted = atoms[order]
    after = evaluate(model, permuted)
    assert_close(after["energy"], before["energy"], 1e-10)
    assert_close(after["forces"], before["forces"][order], 1e-10)


@pytest.mark.parametrize("periodic", [False, True])
def test_forces_are_minus_energy_gradient(model_name, periodic):
    model = make_model(model_name)
    atoms = random_structure(7, n_atoms=6, periodic=periodic)
    forces = evaluate(model, atoms)["forces"]
    step = 1e-5
    numerical = np.zeros_like(forces)
    for atom in range(len(atoms)):
        for axis in range(3):
            energies = []
            for sign in (1, -1):
                displaced = atoms.copy()
                displaced.positions[atom, axis] += sign * step
                energies.append(evaluate(model, displaced, stress=False)["energy"][0])
            numerical[atom, axis] = -(energies[0] - energies[1]) / (2 * step)
    assert_close(forces, numerical, 1e-6)


def test_stress_is_strain_derivative(model_name):
    model = make_model(model_name)
    atoms = random_structure(8, n_atoms=6, periodic=True)
    stress = evaluate(model, atoms)["stress"][0]
    step, volume = 1e-6, atoms.get_volume()
    numerical = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            energies = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[i, j] += sign * step / 2
                strain[j, i] += sign * step / 2
                strained = atoms.copy()
                strained.set_cell(atoms.cell.array @ strain, scale_atoms=True)
                energies.append(evaluate(model, strained, stress=False)["energy"][0])
            numerical[i, j] = (energies[0] - energies[1]) / (2 * step) / volume
    assert_close(stress, numerical, 1e-6)


def test_batch_equals_one_by_one(model_name):
    model = make_model(model_name)
    structures = [random_structure(s, n_atoms=4 + s, periodic=s % 2 == 0) for s in range(4)]
    graphs = [from_atoms(a, model.cutoff_angstrom) for a in structures]
    batched = predict(model, batch_graphs(graphs), compute_stress=True)
    offset = 0
    for k, graph in enumerate(graphs):
        single = predict(model, graph, compute_stress=True)
        n = len(graph.pos)
        assert_close(batched["energy"][k].item(), single["energy"].item(), 1e-12)
        assert_close(batched["forces"][offset : offset + n].detach(),
                     single["forces"].detach(), 1e-12, scale=1.0)
        assert_close(batched["stress"][k].detach(), single["stress"][0].detach(), 1e-12,
                     scale=1.0)
        offset += n


def test_extensive_for_separated_molecules(model_name):
    model = make_model(model_name)
    first, second = random_structure(11, n_atoms=5), random_structure(12, n_atoms=5)
    second.positions += np.array([2 * model.cutoff_angstrom + 4.0, 0, 0])
    together = evaluate(model, first + second)["energy"][0]
    separate = evaluate(model, first)["energy"][0] + evaluate(model, second)["energy"][0]
    assert_close(together, separate, 1e-12)


def test_isolated_atom_feels_no_force():
    model = make_model("vector-hidden")
    alone = evaluate(model, ase.Atoms("O", positions=[[0, 0, 0]]))
    moved = evaluate(model, ase.Atoms("O", positions=[[3, 1, 2]]))
    assert np.all(alone["forces"] == 0)
    assert moved["energy"][0] == alone["energy"][0]
