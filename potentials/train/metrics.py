"""Error metrics accumulated over batches: MAE and RMSE of energy, forces and stress."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from ase.data import chemical_symbols

from potentials.graph import AtomicGraph
from potentials.units import MEV_PER_EV

METRIC_UNITS = {
    "energy_mae_mev": "meV", "energy_rmse_mev": "meV",
    "energy_per_atom_mae_mev": "meV/atom", "energy_per_atom_rmse_mev": "meV/atom",
    "forces_mae_mev_per_angstrom": "meV/Å", "forces_rmse_mev_per_angstrom": "meV/Å",
    "stress_mae_mev_per_angstrom3": "meV/Å³", "stress_rmse_mev_per_angstrom3": "meV/Å³",
}
"""Unit of every metric name returned by `ErrorAccumulator.summary`."""


@dataclass
class _Sums:
    absolute: float = 0.0
    squared: float = 0.0
    count: int = 0

    def add(self, error: torch.Tensor) -> None:
        error = error.detach().double()
        self.absolute += float(error.abs().sum())
        self.squared += float(error.pow(2).sum())
        self.count += error.numel()

    def mae(self) -> float:
        return self.absolute / self.count if self.count else math.nan

    def rmse(self) -> float:
        return math.sqrt(self.squared / self.count) if self.count else math.nan

    def as_row(self) -> list[float]:
        """[absolute, squared, count], to be summed over processes."""
        return [self.absolute, self.squared, self.count]

    @classmethod
    def from_row(cls, row: np.ndarray) -> _Sums:
        return cls(float(row[0]), float(row[1]), int(round(row[2])))


@dataclass
class ErrorAccumulator:
    """Collects prediction errors batch by batch; ``summary()`` gives metrics in meV units.

    Force errors are per Cartesian component; stress errors per tensor component. With
    ``keep_predictions`` the predicted and reference energies per atom and force components
    are kept (for parity plots), and ``forces_numbers`` the atomic number of each force
    component's atom; with ``by_element`` force errors are also summed per element
    (``summary_by_element()``).
    """

    sums: dict[str, _Sums] = field(default_factory=lambda: {
        k: _Sums() for k in ("energy", "energy_per_atom", "forces", "stress")})
    predictions: dict[str, list[torch.Tensor]] = field(default_factory=lambda: {
        "energy_per_atom": [], "energy_per_atom_ref": [], "forces": [], "forces_ref": [],
        "forces_numbers": []})
    keep_predictions: bool = False
    by_element: bool = False
    # atomic number -> sums of that element's force-component errors
    forces_by_element: dict[int, _Sums] = field(default_factory=dict)

    def add(self, predicted: dict[str, torch.Tensor], graph: AtomicGraph) -> None:
        n_atoms = torch.bincount(graph.structure_index, minlength=graph.n_structures)
        has_energy = graph.has_energy.bool()
        if has_energy.any():
            error = (predicted["energy"] - graph.energy)[has_energy]
            self.sums["energy"].add(error)
            self.sums["energy_per_atom"].add(error / n_atoms[has_energy])
            if self.keep_predictions:
                self.predictions["energy_per_atom"].append(
                    (predicted["energy"] / n_atoms)[has_energy].detach().cpu())
                self.predictions["energy_per_atom_ref"].append(
                    (graph.energy / n_atoms)[has_energy].cpu())
        atom_has_forces = graph.has_forces.bool()[graph.structure_index]
        if "forces" in predicted and atom_has_forces.any():
            self._add_forces(predicted["forces"][atom_has_forces],
                             graph.forces[atom_has_forces],
                             graph.atomic_numbers[atom_has_forces])
        has_stress = graph.has_stress.bool()
        if "stress" in predicted and has_stress.any():
            self.sums["stress"].add((predicted["stress"] - graph.stress)[has_stress])

    def _add_forces(self, predicted: torch.Tensor, reference: torch.Tensor,
                    atomic_numbers: torch.Tensor) -> None:
        """Forces [n, 3] in eV/Å of the atoms with a force label, and their atomic numbers [n]."""
        error = predicted - reference
        self.sums["forces"].add(error)
        if self.by_element:
            for number in atomic_numbers.unique().tolist():
                sums = self.forces_by_element.setdefault(number, _Sums())
                sums.add(error[atomic_numbers == number])
        if self.keep_predictions:
            self.predictions["forces"].append(predicted.detach().cpu().flatten())
            self.predictions["forces_ref"].append(reference.cpu().flatten())
            self.predictions["forces_numbers"].append(
                atomic_numbers.cpu().repeat_interleave(3))

    def sum_over_ranks(self, sum_array) -> None:
        """Replace the sums by their totals over ranks (``sum_array``: numpy -> numpy)."""
        keys = list(self.sums)
        local = np.array([self.sums[k].as_row() for k in keys])
        for key, row in zip(keys, sum_array(local), strict=True):
            self.sums[key] = _Sums.from_row(row)
        if self.by_element:  # one row per atomic number: every rank sends the same shape
            table = np.zeros((len(chemical_symbols), 3))
            for number, sums in self.forces_by_element.items():
                table[number] = sums.as_row()
            self.forces_by_element = {number: _Sums.from_row(row)
                                      for number, row in enumerate(sum_array(table)) if row[2]}

    def gather_predictions(self, gather) -> None:
        """Replace the kept predictions by those of all ranks (``gather``: list -> list)."""
        for key, values in self.predictions.items():
            self.predictions[key] = gather(values)

    def summary_by_element(self) -> dict[int, dict[str, float]]:
        """Per atomic number, in increasing order: ``atoms`` (how many force labels) and
        ``forces_mae_mev_per_angstrom``, ``forces_rmse_mev_per_angstrom`` over their
        components (empty unless the accumulator was made with ``by_element``)."""
        return {number: {"atoms": sums.count // 3,
                         "forces_mae_mev_per_angstrom": MEV_PER_EV * sums.mae(),
                         "forces_rmse_mev_per_angstrom": MEV_PER_EV * sums.rmse()}
                for number, sums in sorted(self.forces_by_element.items())}

    def summary(self) -> dict[str, float]:
        """Metrics in meV, meV/atom, meV/Å and meV/Å³ (names in `METRIC_UNITS`)."""
        suffix = {"energy": "mev", "energy_per_atom": "mev", "forces": "mev_per_angstrom",
                  "stress": "mev_per_angstrom3"}
        out = {}
        for key, sums in self.sums.items():
            if sums.count:
                out[f"{key}_mae_{suffix[key]}"] = MEV_PER_EV * sums.mae()
                out[f"{key}_rmse_{suffix[key]}"] = MEV_PER_EV * sums.rmse()
        return out
