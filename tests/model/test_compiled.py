"""The compiled training predictor gives the numbers and weight gradients of eager `predict`.

Compiling takes minutes on a CPU (197 s on 2 cores without a warm compiler cache), so
one batch of two periodic structures in different triclinic cells covers energies, forces,
stress and the weight gradients of a loss on all three.
"""

from __future__ import annotations

import pytest
import torch

from potentials.graph import batch_graphs, from_atoms
from potentials.model import predict
from potentials.model.compiled import CompiledPredictor
from tests.builders import make_model, random_structure

KEYS = ("energies", "energy", "forces", "virial", "stress")


def batch(seeds: list[int], n_atoms: int):
    structures = [random_structure(seed, n_atoms, periodic=True) for seed in seeds]
    return batch_graphs([from_atoms(atoms, 3.5) for atoms in structures])


def force_loss_gradients(model: torch.nn.Module, results: dict) -> list[torch.Tensor]:
    loss = (results["forces"] ** 2).sum() + results["stress"].pow(2).sum() + results["energy"].sum()
    return torch.autograd.grad(loss, list(model.parameters()))


def test_matches_eager_predict():
    model = make_model("vector-hidden")
    graph = batch([1, 2], 8)
    eager = predict(model, graph, compute_stress=True, training=True)
    compiled = CompiledPredictor(model)(graph, compute_stress=True)
    for key in KEYS:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-10, atol=1e-12)
    for ours, reference in zip(force_loss_gradients(model, compiled),
                               force_loss_gradients(model, eager), strict=True):
        torch.testing.assert_close(ours, reference, rtol=1e-9, atol=1e-12)


def test_unknown_element_is_named_before_compiling():
    predictor = CompiledPredictor(make_model("vector-hidden"))
    atoms = random_structure(13, 6, periodic=True)
    atoms.numbers[0] = 79
    with pytest.raises(ValueError, match=r"\['Au'\]"):
        predictor(from_atoms(atoms, 3.5), compute_stress=False)


def test_running_out_of_compiled_variants_raises_instead_of_running_eagerly():
    """With the limit lowered to one variant, a batch that needs a second one must raise."""
    model = make_model("vector-hidden")
    predictor = CompiledPredictor(model)
    predictor(batch([1, 2], 8), compute_stress=True)  # the variant compiled above, cached
    limit_hit = torch._dynamo.exc.FailOnRecompileLimitHit
    with torch._dynamo.config.patch(recompile_limit=1), pytest.raises(limit_hit):
        predictor(batch([3], 8), compute_stress=True)  # one structure: a new variant


def test_other_numbers_of_atoms_and_edges_reuse_the_compiled_code():
    """Counts are symbols of the compiled code: a batch with other numbers of atoms and
    edges (same number of structures) runs without a second variant and matches eager.
    (Fewer atoms than the first batch: the CPU compiler guards small matrix products on
    at most 16 rows, a bound that a larger batch would cross.)"""
    model = make_model("vector-hidden")
    predictor = CompiledPredictor(model)
    predictor(batch([1, 2], 8), compute_stress=True)  # the variant compiled above, cached
    smaller = batch([4, 5], 7)
    with torch._dynamo.config.patch(recompile_limit=1):
        compiled = predictor(smaller, compute_stress=True)
    eager = predict(model, smaller, compute_stress=True, training=True)
    for key in KEYS:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-10, atol=1e-12)
