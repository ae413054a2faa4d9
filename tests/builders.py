"""Models and random structures shared by the tests (model, calculator, training)."""

from __future__ import annotations

import ase
import numpy as np
import torch

from potentials.model import DataStatistics, EquivariantPotential, LennardJones, ModelConfig

SMALL_CONFIGS = {
    "scalar-hidden": ModelConfig(cutoff_angstrom=3.5, num_channels=8, l_max=0, l_max_edge=2,
                                 radial_hidden=(16,)),
    "vector-hidden": ModelConfig(cutoff_angstrom=3.5, num_channels=8, l_max=1, l_max_edge=3,
                                 radial_hidden=(16,)),
    "three-layers-l2": ModelConfig(cutoff_angstrom=3.5, num_channels=4, l_max=2, l_max_edge=2,
                                   l_max_intermediate=2, num_layers=3, correlation=2,
                                   radial_hidden=(8,)),
}
"""Small architectures covering scalar/vector/l=2 hidden features and 2/3 layers."""

STATISTICS = DataStatistics(atomic_numbers=(1, 6, 8), e0s_ev=(-0.5, -1.0, -2.0),
                            avg_num_neighbors=6.0, energy_scale_ev=0.7,
                            energy_shift_ev=0.1)


def make_model(name: str, dtype: torch.dtype = torch.float64) -> torch.nn.Module:
    """A randomly initialised model (fixed seed), or Lennard-Jones for ``"lennard-jones"``."""
    if name == "lennard-jones":
        return LennardJones(epsilon_ev=0.01, sigma_angstrom=1.1, cutoff_angstrom=3.5)
    torch.manual_seed(0)
    model = EquivariantPotential(SMALL_CONFIGS[name], STATISTICS).to(dtype)
    # Untrained weights make some paths vanish (e.g. product weights); perturb all of them so
    # every coupling is exercised by the tests.
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return model


def random_structure(seed: int, n_atoms: int = 8, periodic: bool = False,
                     min_distance: float = 0.9) -> ase.Atoms:
    """Random H/C/O atoms no closer than ``min_distance`` Å; periodic ones in a triclinic cell."""
    rng = np.random.default_rng(seed)
    cell = np.diag([4.2, 4.6, 5.0]) + rng.uniform(-0.8, 0.8, (3, 3)) if periodic else None
    positions: list[np.ndarray] = []
    while len(positions) < n_atoms:
        if periodic:
            candidate = rng.uniform(0, 1, 3) @ cell
        else:
            candidate = rng.uniform(0, 3.0, 3)
        atoms = ase.Atoms(positions=[*positions, candidate], cell=cell, pbc=periodic)
        if len(positions) == 0 or atoms.get_distances(
                len(positions), range(len(positions)), mic=periodic).min() > min_distance:
            positions.append(candidate)
    numbers = rng.choice([1, 6, 8], n_atoms)
    return ase.Atoms(numbers=numbers, positions=positions, cell=cell, pbc=periodic)
