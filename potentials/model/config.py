"""Hyperparameters of the equivariant potential, saved inside every model file."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of :class:`potentials.model.EquivariantPotential`.

    Attributes
    ----------
    cutoff_angstrom
        Neighbour cutoff radius in Å.
    num_channels
        Channels per degree l in the hidden features.
    l_max
        Highest degree of the hidden node features passed between layers (0: scalars only,
        1: scalars and vectors, as MACE's ``64x0e+64x1o``).
    l_max_edge
        Highest degree of the edge spherical harmonics and of the A-features.
    l_max_intermediate
        Highest degree kept in intermediate many-body products.
    num_layers
        Number of message-passing layers.
    correlation
        Correlation order ν of the many-body product (body order ν + 1 per layer).
    num_radial_basis
        Number of Bessel functions.
    radial_hidden
        Hidden widths of the MLP from radial basis to convolution weights.
    envelope_power
        Power p of the polynomial cutoff envelope.
    readout_hidden
        Hidden width of the final per-atom energy MLP.
    """

    cutoff_angstrom: float = 5.0
    num_channels: int = 32
    l_max: int = 1
    l_max_edge: int = 3
    l_max_intermediate: int = 1
    num_layers: int = 2
    correlation: int = 3
    num_radial_basis: int = 8
    radial_hidden: tuple[int, ...] = field(default=(64, 64))
    envelope_power: int = 6
    readout_hidden: int = 16

    def __post_init__(self) -> None:
        checks = {
            "cutoff_angstrom": self.cutoff_angstrom > 0,
            "num_channels": self.num_channels >= 1,
            "l_max": 0 <= self.l_max <= self.l_max_edge,
            "l_max_edge": 0 <= self.l_max_edge <= 6,
            "l_max_intermediate": self.l_max_intermediate >= 0,
            "num_layers": self.num_layers >= 1,
            "correlation": 1 <= self.correlation <= 4,
            "num_radial_basis": self.num_radial_basis >= 1,
            "envelope_power": self.envelope_power >= 2,
            "readout_hidden": self.readout_hidden >= 1,
        }
        for name, valid in checks.items():
            if not valid:
                raise ValueError(f"invalid model config: {name}={getattr(self, name)!r}")
        object.__setattr__(self, "radial_hidden", tuple(int(w) for w in self.radial_hidden))

    def to_dict(self) -> dict:
        """Plain JSON-serialisable dictionary."""
        values = dataclasses.asdict(self)
        values["radial_hidden"] = list(self.radial_hidden)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown model config keys {unknown}; known keys: {sorted(known)}")
        return cls(**values)
