"""EquiCalculator: ASE contract, neighbour-list reuse, batches and bad input."""

from __future__ import annotations

import ase
import numpy as np
import pytest
import torch
from ase.build import bulk, fcc111
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.lj import LennardJones as AseLennardJones
from ase.constraints import FixAtoms
from ase.filters import FrechetCellFilter
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS

from potentials import EquiCalculator
from potentials.model import LennardJones
from tests.builders import make_model, random_structure

SIGMA, EPSILON, CUTOFF = 2.3, 0.4, 5.0


def lennard_jones_pair() -> tuple[EquiCalculator, AseLennardJones]:
    ours = EquiCalculator(LennardJones(EPSILON, SIGMA, CUTOFF), device="cpu")
    return ours, AseLennardJones(sigma=SIGMA, epsilon=EPSILON, rc=CUTOFF, smooth=False)


def test_matches_ase_lennard_jones_including_voigt_stress():
    ours, reference = lennard_jones_pair()
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=1)
    atoms.set_cell(atoms.cell.array @ np.array([[1, 0.05, 0], [0, 1, 0.02], [0, 0, 0.97]]),
                   scale_atoms=True)
    expected = atoms.copy()
    expected.calc = reference
    atoms.calc = ours
    assert abs(atoms.get_potential_energy() - expected.get_potential_energy()) < 1e-10
    np.testing.assert_allclose(atoms.get_forces(), expected.get_forces(), atol=1e-10)
    np.testing.assert_allclose(atoms.get_stress(), expected.get_stress(), atol=1e-10)
    np.testing.assert_allclose(atoms.get_potential_energies(),
                               expected.get_potential_energies(), atol=1e-10)


def test_skin_reuse_gives_the_same_forces_over_500_md_steps():
    ours, reference = lennard_jones_pair()
    atoms = bulk("C", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.calc = reference
    rng = np.random.default_rng(0)
    atoms.set_velocities(rng.normal(0, 0.05, (len(atoms), 3)))
    model = make_model("vector-hidden")
    with_skin = EquiCalculator(model, device="cpu", skin_angstrom=0.5)
    without_skin = EquiCalculator(model, device="cpu", skin_angstrom=0.0)
    dynamics = VelocityVerlet(atoms, timestep=2.0 * ase.units.fs)
    largest = 0.0
    for _ in range(500):
        dynamics.run(1)
        probe = atoms.copy()
        forces_skin = with_skin.get_forces(probe)
        forces_fresh = without_skin.get_forces(probe)
        largest = max(largest, float(np.abs(forces_skin - forces_fresh).max()))
    assert largest < 1e-12
    assert without_skin.neighbour_list_builds == 500
    assert 1 <= with_skin.neighbour_list_builds < 100


def test_batch_evaluation_equals_single_calls():
    calculator = EquiCalculator(make_model("vector-hidden"), device="cpu")
    images = [random_structure(s, n_atoms=5 + s, periodic=s % 2 == 1) for s in range(5)]
    batched = calculator.evaluate(images, batch_size=2)
    for atoms, result in zip(images, batched, strict=True):
        atoms.calc = calculator
        assert abs(atoms.get_potential_energy() - result["energy"]) < 1e-10
        np.testing.assert_allclose(atoms.get_forces(), result["forces"], atol=1e-10)
        assert ("stress" in result) == bool(atoms.pbc.all())


def test_constraints_and_slabs():
    ours, _ = lennard_jones_pair()
    slab = fcc111("Cu", size=(2, 2, 3), vacuum=6.0, a=3.6)
    slab.set_constraint(FixAtoms(indices=[0, 1, 2, 3]))
    slab.calc = ours
    fixed = slab.positions[:4].copy()
    BFGS(slab, logfile=None).run(fmax=0.05, steps=20)
    np.testing.assert_array_equal(slab.positions[:4], fixed)
    assert slab.pbc.tolist() == [True, True, False]
    with pytest.raises(PropertyNotImplementedError):
        slab.get_stress()


def test_cell_relaxation_with_frechet_filter():
    ours, _ = lennard_jones_pair()
    atoms = bulk("C", "fcc", a=3.9)
    atoms.calc = ours
    BFGS(FrechetCellFilter(atoms), logfile=None).run(fmax=1e-5, steps=200)
    assert np.abs(atoms.get_stress()).max() < 1e-4


@pytest.mark.parametrize(
    ("atoms", "message"),
    [
        (ase.Atoms(), "empty"),
        (ase.Atoms("HH", positions=[[0, 0, 0], [np.nan, 0, 0]]), "NaN"),
        (ase.Atoms("HH", positions=[[0, 0, 0], [0.05, 0, 0]]), "closer than 0.1"),
        (ase.Atoms("H", cell=np.zeros((3, 3)), pbc=True), "zero volume"),
        # a diverged barostat leaves such a cell; the neighbour list would abort the process
        (ase.Atoms("H", cell=np.diag([np.nan, 3.0, 3.0]), pbc=True), "cell.*NaN or infinite"),
        (ase.Atoms("HSi", positions=[[0, 0, 0], [2, 0, 0]]), r"\['Si'\].*\['H', 'C', 'O'\]"),
    ],
)
def test_bad_input_is_named(atoms, message):
    calculator = EquiCalculator(make_model("scalar-hidden"), device="cpu")
    atoms.calc = calculator
    with pytest.raises(ValueError, match=message):
        atoms.get_forces()


def test_atom_without_neighbours_is_fine():
    calculator = EquiCalculator(make_model("scalar-hidden"), device="cpu")
    atoms = ase.Atoms("OH", positions=[[0, 0, 0], [20, 0, 0]])
    atoms.calc = calculator
    assert np.all(np.isfinite(atoms.get_forces()))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_is_an_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        EquiCalculator(make_model("scalar-hidden"), device="cuda")


def test_unknown_model_name_lists_shipped_models():
    with pytest.raises(FileNotFoundError, match="neither a file nor a shipped model"):
        EquiCalculator("no-such-model", device="cpu")
