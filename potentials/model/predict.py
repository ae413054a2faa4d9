r"""Where forces and stress are derived: autograd of the total energy.

`potentials.model.compiled` differentiates the same energy with ``torch.func`` for the
compiled training step and shares :func:`apply_strain` and :func:`virial_and_stress` with
:func:`predict`, so both follow the conventions below.

For every structure we apply a symmetric strain :math:`\varepsilon` to positions and cell,
:math:`r \to r (1 + \varepsilon)`, :math:`L \to L (1 + \varepsilon)`, evaluate at
:math:`\varepsilon = 0` and differentiate:

.. math::
    F_i = -\frac{\partial E}{\partial r_i}, \qquad
    W = -\frac{\partial E}{\partial \varepsilon}, \qquad
    \sigma = \frac{1}{V} \frac{\partial E}{\partial \varepsilon} = -\frac{W}{V}

in eV/Å, eV and eV/Å³. This is ASE's sign convention: a compressed cell has negative stress
and positive pressure :math:`P = -\mathrm{tr}(\sigma)/3`. The edge vectors
:math:`r_{ij} = r_j - r_i + S L` are built inside the differentiated region, so periodic
images and the cell's strain dependence are exact.
"""

from __future__ import annotations

import torch
from torch import nn

from potentials.graph import AtomicGraph, sum_per_structure


def check_species(model: nn.Module, atomic_numbers: torch.Tensor) -> None:
    """Raise a ValueError naming any element of ``atomic_numbers`` ``model`` was not trained
    on."""
    unknown = model.species_index(atomic_numbers) < 0
    if bool(unknown.any()):
        from ase.data import chemical_symbols

        missing = sorted({chemical_symbols[z] for z in atomic_numbers[unknown].tolist()})
        known = [chemical_symbols[z] for z in model.statistics.atomic_numbers]
        raise ValueError(f"the model was not trained on element(s) {missing}; it knows {known}")


def edge_vectors(
    positions: torch.Tensor, cell: torch.Tensor, graph: AtomicGraph
) -> torch.Tensor:
    """[n_edges, 3] vectors ``r_j - r_i + S @ cell`` in Å."""
    centres, neighbours = graph.edge_index[0], graph.edge_index[1]
    shifts = graph.cell_shifts.to(positions.dtype)  # [n_edges, 3]
    if cell.shape[0] == 1:
        offsets = shifts @ cell[0]
    else:
        offsets = torch.einsum("ei,eij->ej", shifts, cell[graph.edge_structure_index])
    return positions[neighbours] - positions[centres] + offsets


def predict(
    model: nn.Module,
    graph: AtomicGraph,
    compute_forces: bool = True,
    compute_stress: bool = False,
    training: bool = False,
) -> dict[str, torch.Tensor]:
    """Energy, per-atom energies and (optionally) forces, virial and stress of ``graph``.

    Parameters
    ----------
    model
        Module mapping ``(graph, edge_vectors)`` to per-atom energies [n_atoms] in eV.
    graph
        One structure or a batch; its floating-point fields must match the model's dtype.
    compute_forces, compute_stress
        Which derivatives to compute.
    training
        Keep the graph of the derivatives so a loss on forces/stress can be backpropagated.

    Returns
    -------
    dict with ``energies`` [n_atoms] eV, ``energy`` [n_structures] eV, and if asked
    ``forces`` [n_atoms, 3] eV/Å, ``virial`` [n_structures, 3, 3] eV and ``stress``
    [n_structures, 3, 3] eV/Å³ (zero for structures without a 3-D cell volume).
    """
    check_species(model, graph.atomic_numbers)
    positions, cell = graph.pos, graph.cell
    inputs: list[torch.Tensor] = []
    if compute_forces or compute_stress:
        positions = positions.detach().requires_grad_(True)
        inputs.append(positions)
    if compute_stress:
        strain = torch.zeros_like(cell, requires_grad=True)  # [n_structures, 3, 3]
        positions, cell = apply_strain(positions, cell, strain, graph)
        inputs.append(strain)
    energies = model(graph, edge_vectors(positions, cell, graph))
    energy = sum_per_structure(energies, graph)
    results = {"energies": energies, "energy": energy}
    if not inputs:
        return results
    gradients = torch.autograd.grad(energy.sum(), inputs, create_graph=training)
    if compute_forces:
        results["forces"] = -gradients[0]
    if compute_stress:
        results.update(virial_and_stress(gradients[-1], graph))
    return results


def apply_strain(positions: torch.Tensor, cell: torch.Tensor, strain: torch.Tensor,
                 graph: AtomicGraph) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions [n_atoms, 3] and cell [n_structures, 3, 3] deformed by the symmetric part
    of ``strain`` [n_structures, 3, 3] (dimensionless): ``r (1 + ε)``, ``L (1 + ε)``."""
    symmetric = 0.5 * (strain + strain.transpose(1, 2))
    per_atom = symmetric[graph.structure_index]  # [n_atoms, 3, 3]
    return positions + torch.einsum("ni,nij->nj", positions, per_atom), cell + cell @ symmetric


def virial_and_stress(d_energy_d_strain: torch.Tensor, graph: AtomicGraph
                      ) -> dict[str, torch.Tensor]:
    """Virial [n_structures, 3, 3] in eV and stress in eV/Å³ from ∂E/∂ε (zero stress where
    the cell has no volume)."""
    volume = torch.linalg.det(graph.cell).abs()  # [n_structures]
    safe_volume = torch.where(volume > 0, volume, torch.ones_like(volume))
    stress = torch.where(
        (volume > 0).view(-1, 1, 1), d_energy_d_strain / safe_volume.view(-1, 1, 1), 0.0
    )
    return {"virial": -d_energy_d_strain, "stress": stress}
