"""Dataset statistics a model is built with: elements, E0s, neighbour count, energy scale."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class DataStatistics:
    """Numbers taken once from the training split and stored in the model file.

    Attributes
    ----------
    atomic_numbers
        Elements the model knows, in the order of its species index.
    e0s_ev
        Energy of each element's isolated atom in eV (same order), added per atom.
    avg_num_neighbors
        Mean number of neighbours within the cutoff; normalises the message sums.
    energy_scale_ev
        Scale of the network's per-atom output in eV (RMS of the reference forces, in eV/Å
        times 1 Å, as in MACE).
    energy_shift_ev
        Mean per-atom energy after subtracting E0s, in eV.
    """

    atomic_numbers: tuple[int, ...]
    e0s_ev: tuple[float, ...]
    avg_num_neighbors: float
    energy_scale_ev: float = 1.0
    energy_shift_ev: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "atomic_numbers", tuple(int(z) for z in self.atomic_numbers))
        object.__setattr__(self, "e0s_ev", tuple(float(e) for e in self.e0s_ev))
        if len(self.atomic_numbers) != len(self.e0s_ev):
            raise ValueError(
                f"{len(self.atomic_numbers)} elements but {len(self.e0s_ev)} E0 values"
            )
        if len(set(self.atomic_numbers)) != len(self.atomic_numbers):
            raise ValueError(f"repeated elements in {self.atomic_numbers}")
        if self.avg_num_neighbors <= 0:
            raise ValueError(f"avg_num_neighbors must be > 0, got {self.avg_num_neighbors}")

    def to_dict(self) -> dict:
        values = asdict(self)
        values["atomic_numbers"] = list(self.atomic_numbers)
        values["e0s_ev"] = list(self.e0s_ev)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> DataStatistics:
        return cls(**values)
