"""The equivariant message-passing network: per-atom energies from an `AtomicGraph`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import torch
from ase.data import chemical_symbols
from e3nn import o3
from torch import nn

from potentials.graph import AtomicGraph
from potentials.model.config import ModelConfig
from potentials.model.statistics import DataStatistics
from potentials.nn.gate import Gate
from potentials.nn.interaction import Interaction
from potentials.nn.linear import EquivariantLinear
from potentials.nn.mlp import MLP
from potentials.nn.product import ManyBodyProduct
from potentials.nn.radial import BesselBasis, PolynomialEnvelope

FLOAT64_BUFFERS = ("e0s_ev", "shift_ev")
"""Buffers kept in float64 whatever the model's dtype: per-atom energies are returned in
float64 so that totals of ~10^4 eV keep sub-meV resolution."""

ONE_ELEMENT_BUFFERS = ("scale_ev", "shift_ev")
"""Scalars stored with shape [1], not as 0-d tensors: `torch.compile` reads a 0-d float64
buffer as a Python float, traces it as a symbolic value and must then restart its analysis,
which cost 48 s of the 4-layer acac model's first compile (401 -> 353 s). Model files written before
hold them 0-d; `_scalars_to_one_element` reshapes them on loading."""


def _scalars_to_one_element(module: nn.Module, state_dict: dict, prefix: str,
                            *args: object) -> None:
    """Load-state-dict pre-hook: 0-d ``scale_ev`` / ``shift_ev`` of older files -> shape [1]."""
    for name in ONE_ELEMENT_BUFFERS:
        key = prefix + name
        if key in state_dict and state_dict[key].dim() == 0:
            state_dict[key] = state_dict[key].reshape(1)


class Layer(nn.Module):
    """One message-passing layer: interaction, many-body product, gate, residual, readout."""

    def __init__(self, config: ModelConfig, num_species: int, avg_num_neighbors: float,
                 l_max_in: int, l_max_out: int, last: bool):
        super().__init__()
        c = config.num_channels
        self.interaction = Interaction(
            c, l_max_in, config.l_max_edge, config.num_radial_basis,
            list(config.radial_hidden), avg_num_neighbors,
        )
        self.product = ManyBodyProduct(
            c, config.l_max_edge, l_max_out, config.l_max_intermediate, config.correlation,
            num_species,
        )
        self.linear = EquivariantLinear(c, c, l_max_out)
        self.gate = Gate(c, l_max_out)
        self.l_max_residual = min(l_max_in, l_max_out)
        self.residual = EquivariantLinear(c, c, self.l_max_residual, num_species=num_species)
        sizes = [c, config.readout_hidden, 1] if last else [c, 1]
        self.readout = MLP(sizes)

    def forward(
        self,
        features: torch.Tensor,  # [n_atoms, C, (l_max_in+1)^2]
        species: torch.Tensor,  # [n_atoms]
        edge_index: torch.Tensor,  # [2, n_edges]
        edge_harmonics: torch.Tensor,  # [n_edges, (l_max_edge+1)^2]
        edge_radial: torch.Tensor,  # [n_edges, n_basis]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (new features [n, C, (l_max_out+1)^2], energy contribution [n])."""
        a_features = self.interaction(features, edge_index, edge_harmonics, edge_radial)
        updated = self.gate(self.linear(self.product(a_features, species)))
        width = (self.l_max_residual + 1) ** 2
        residual = self.residual(features[:, :, :width], species)
        updated = torch.cat([updated[:, :, :width] + residual, updated[:, :, width:]], dim=-1)
        return updated, self.readout(updated[:, :, 0]).squeeze(-1)


class EquivariantPotential(nn.Module):
    r"""E(3)-equivariant potential in the MACE/NequIP family; returns per-atom energies in eV.

    .. math::
        E_i = s \sum_t \mathrm{readout}_t(h_i^{(t)}) + \mu + E_0(z_i)

    with scale :math:`s`, shift :math:`\mu` and isolated-atom energies :math:`E_0` from
    :class:`DataStatistics`. Features of layer t have irreps ``C x 0e + C x 1o + ...`` up to
    ``config.l_max`` (scalars only after the last layer).
    """

    def __init__(self, config: ModelConfig, statistics: DataStatistics):
        super().__init__()
        self.config = config
        self.statistics = statistics
        self.cutoff_angstrom = config.cutoff_angstrom
        num_species = len(statistics.atomic_numbers)
        table = torch.full((119,), -1, dtype=torch.long)
        table[list(statistics.atomic_numbers)] = torch.arange(num_species)
        self.register_buffer("species_table", table)
        # E0s and shift stay float64 even in a float32 model (see `_apply`): E0s of ~10^3 eV
        # in float32 would be off by ~10^-4 eV per atom.
        as_float64 = {"dtype": torch.float64}
        self.register_buffer("e0s_ev", torch.tensor(statistics.e0s_ev, **as_float64))
        self.register_buffer("scale_ev", torch.tensor([statistics.energy_scale_ev], **as_float64))
        self.register_buffer("shift_ev", torch.tensor([statistics.energy_shift_ev], **as_float64))
        self.register_load_state_dict_pre_hook(_scalars_to_one_element)
        self.embedding = nn.Parameter(torch.randn(num_species, config.num_channels))
        self.radial_basis = BesselBasis(config.cutoff_angstrom, config.num_radial_basis)
        self.envelope = PolynomialEnvelope(config.cutoff_angstrom, config.envelope_power)
        self.harmonic_degrees = list(range(config.l_max_edge + 1))
        self.layers = nn.ModuleList()
        for t in range(config.num_layers):
            last = t == config.num_layers - 1
            self.layers.append(Layer(
                config, num_species, statistics.avg_num_neighbors,
                l_max_in=0 if t == 0 else config.l_max, l_max_out=0 if last else config.l_max,
                last=last,
            ))

    def replace_e0s(self, isolated_atom_energies_ev: Mapping[int, float]) -> None:
        """Use other isolated-atom energies (atomic number -> eV), keeping every learned weight.

        For fine-tuning on data from another reference method: energies of two methods differ
        mostly by per-element constants, which the E0s carry. Scale and shift stay, since the
        weights were learned with them. Every element the model knows needs an energy.
        """
        known = self.statistics.atomic_numbers
        missing = [chemical_symbols[z] for z in known if z not in isolated_atom_energies_ev]
        if missing:
            raise ValueError(f"no isolated-atom energy for {', '.join(missing)}; the model "
                             f"knows {', '.join(chemical_symbols[z] for z in known)}")
        e0s = tuple(float(isolated_atom_energies_ev[z]) for z in known)
        self.statistics = dataclasses.replace(self.statistics, e0s_ev=e0s)
        self.e0s_ev.copy_(torch.tensor(e0s, dtype=torch.float64))

    def species_index(self, atomic_numbers: torch.Tensor) -> torch.Tensor:
        """[n_atoms] index into this model's elements; -1 for elements it does not know."""
        return self.species_table[atomic_numbers]

    def forward(self, graph: AtomicGraph, edge_vectors: torch.Tensor) -> torch.Tensor:
        """Per-atom energies [n_atoms] in eV (float64) from ``edge_vectors`` [n_edges, 3] in Å.

        ``edge_vectors`` are ``r_j - r_i + S @ cell`` in the model's dtype.
        """
        species = self.species_index(graph.atomic_numbers)
        distances = edge_vectors.norm(dim=-1)  # [n_edges]
        harmonics = o3.spherical_harmonics(
            self.harmonic_degrees, edge_vectors, normalize=True, normalization="component"
        )  # [n_edges, (l_max_edge+1)^2]
        radial = self.radial_basis(distances) * self.envelope(distances).unsqueeze(-1)
        features = self.embedding[species].unsqueeze(-1)  # [n_atoms, C, 1]
        energy = torch.zeros_like(graph.pos[:, 0])
        for layer in self.layers:
            features, contribution = layer(features, species, graph.edge_index, harmonics, radial)
            energy = energy + contribution
        # The learned part in the model's dtype, the large constant baseline in float64.
        return (self.scale_ev * energy).to(torch.float64) + self.shift_ev + self.e0s_ev[species]

    def _apply(self, fn, recurse=True):  # noqa: ANN001 - torch.nn.Module's signature
        """Moves and casts like any module, except that E0s and shift stay float64."""
        kept = {name: self._buffers[name] for name in FLOAT64_BUFFERS}
        super()._apply(fn, recurse)
        for name, value in kept.items():
            self._buffers[name] = value.to(device=self._buffers[name].device)
        return self
