"""Energies, forces and stress from one `torch.compile`d function, for training and for the
calculator (``EquiCalculator(..., compile=True)``).

Training differentiates twice: forces are ∂E/∂r, and the loss on forces is differentiated
again with respect to the weights. `torch.compile` cannot compile a function that calls
``torch.autograd.grad``, but it can trace ``torch.func.grad``: the derivative is then part
of the traced graph, the compiler fuses the many small element-wise operations of an
equivariant network into a few loops, and the backward pass of that graph gives the weight
gradients of a force loss. On a 2-core CPU a training step on acetylacetone takes about half
the time of the eager step (docs/training.md, "Compiled training"). Called under
``torch.no_grad()`` the same function keeps no graph to the weights (``torch.func.grad``
still differentiates by positions and strain), and a calculator call on a small molecule
takes about half the time of the eager one (docs/benchmarks.md, "Compiled calculator").

The numbers are those of :func:`potentials.model.predict` (to 1e-9 relative in float64,
`tests/model/test_compiled.py`): the same strain convention and the same stress formula,
shared with it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from potentials.graph import AtomicGraph, sum_per_structure
from potentials.model.network import EquivariantPotential
from potentials.model.predict import apply_strain, check_species, edge_vectors, virial_and_stress


class GraphTensors(NamedTuple):
    """The tensors of an `AtomicGraph` that the network reads, as a plain tuple the compiler
    can trace (a torch_geometric batch is not one); same names, shapes and units."""

    pos: torch.Tensor
    atomic_numbers: torch.Tensor
    edge_index: torch.Tensor
    cell_shifts: torch.Tensor
    structure_index: torch.Tensor
    edge_structure_index: torch.Tensor


class CompiledPredictor:
    """``predictor(graph, compute_stress)`` -> the dict of :func:`predict` with forces. With
    gradients enabled (training) the derivatives keep their graph so a loss on them can be
    backpropagated; under ``torch.no_grad()`` (the calculator) they keep none.

    The first call compiles (minutes on a CPU); later batches of other sizes reuse the
    compiled code (shapes are dynamic), though a new number of structures per batch can
    compile another variant. Compilation errors, and a ninth variant, are raised, never
    replaced by eager execution.
    """

    def __init__(self, model: EquivariantPotential):
        self.model = model
        self._compiled = torch.compile(self._energies_and_gradients, dynamic=True)

    def _energies_and_gradients(
        self, tensors: GraphTensors, cell: torch.Tensor, strain: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(per-atom energies [n_atoms] eV, ∂E/∂r [n_atoms, 3] eV/Å, ∂E/∂ε [n_structures, 3,
        3] eV) at zero strain."""

        def total_energy(positions: torch.Tensor, strain: torch.Tensor
                         ) -> tuple[torch.Tensor, torch.Tensor]:
            positions, strained_cell = apply_strain(positions, cell, strain, tensors)
            graph = tensors._replace(pos=positions)
            energies = self.model(graph, edge_vectors(positions, strained_cell, graph))
            return energies.sum(), energies

        gradients, (_, energies) = torch.func.grad_and_value(
            total_energy, argnums=(0, 1), has_aux=True)(tensors.pos, strain)
        return energies, gradients[0], gradients[1]

    def __call__(self, graph: AtomicGraph, compute_stress: bool) -> dict[str, torch.Tensor]:
        check_species(self.model, graph.atomic_numbers)
        tensors = GraphTensors(graph.pos, graph.atomic_numbers, graph.edge_index,
                               graph.cell_shifts, graph.structure_index,
                               graph.edge_structure_index)
        # After `recompile_limit` (8) variants the compiler would silently run the rest
        # eagerly; raise instead, so a slow run is never mistaken for a compiled one.
        with torch._dynamo.config.patch(fail_on_recompile_limit_hit=True):
            energies, d_energy_d_positions, d_energy_d_strain = self._compiled(
                tensors, graph.cell, torch.zeros_like(graph.cell))
        results = {"energies": energies, "energy": sum_per_structure(energies, graph),
                   "forces": -d_energy_d_positions}
        if compute_stress:
            results.update(virial_and_stress(d_energy_d_strain, graph))
        return results
