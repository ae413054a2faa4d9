"""Geometry and cell relaxation with ASE optimisers."""

from __future__ import annotations

from dataclasses import dataclass

import ase
import ase.units
import numpy as np
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE

OPTIMIZERS = {"bfgs": BFGS, "fire": FIRE}


@dataclass
class RelaxSummary:
    """Outcome of a relaxation: forces in eV/Å, stress in eV/Å³, energies in eV; for a 3-D
    periodic cell also its pressure, −trace(stress)/3, in GPa, and for a relaxed cell its
    volume before and after in Å³."""

    converged: bool
    steps: int
    initial_energy_ev: float
    final_energy_ev: float
    max_force_ev_per_angstrom: float
    max_stress_ev_per_angstrom3: float | None
    pressure_gpa: float | None = None
    volumes_angstrom3: tuple[float, float] | None = None

    def format(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        text = (f"{state} after {self.steps} steps: energy {self.initial_energy_ev:.6f} -> "
                f"{self.final_energy_ev:.6f} eV, max |F| {self.max_force_ev_per_angstrom:.2e} "
                f"eV/Å")
        if self.max_stress_ev_per_angstrom3 is not None:
            text += f", max |stress| {self.max_stress_ev_per_angstrom3:.2e} eV/Å³"
        if self.pressure_gpa is not None:
            text += f", pressure {self.pressure_gpa:.4f} GPa"
        if self.volumes_angstrom3 is not None:
            before, after = self.volumes_angstrom3
            text += (f", volume {before:.3f} -> {after:.3f} Å³ "
                     f"({100 * (after / before - 1):+.2f} %)")
        return text


def relax(atoms: ase.Atoms, fmax_ev_per_angstrom: float = 0.01, optimizer: str = "bfgs",
          relax_cell: bool = False, max_steps: int = 1000, trajectory: str | None = None,
          logfile: str | None = "-", pressure_gpa: float = 0.0) -> RelaxSummary:
    """Relax positions (and the cell, with a `FrechetCellFilter`) of ``atoms`` in place.

    With ``relax_cell`` the stress criterion is ``fmax`` expressed per unit volume by the
    filter (ASE's convention), so a converged cell has |stress| well below fmax/Å³; with
    ``pressure_gpa`` the cell is relaxed to that external pressure (the enthalpy E + pV is
    minimised), and a converged cell's stress is −pressure on the diagonal.
    """
    if not fmax_ev_per_angstrom > 0:
        raise ValueError(f"fmax must be > 0 eV/Å, got {fmax_ev_per_angstrom}")
    if max_steps < 1:
        raise ValueError(f"the maximum number of steps must be >= 1, got {max_steps}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got '{optimizer}'")
    if pressure_gpa and not relax_cell:
        raise ValueError(f"a pressure ({pressure_gpa} GPa) acts on the cell: relax the cell "
                         f"too (--cell)")
    if relax_cell and not atoms.pbc.all():
        raise ValueError(f"--cell needs a cell periodic in all directions, "
                         f"pbc={atoms.pbc.tolist()}")
    initial = atoms.get_potential_energy()
    initial_volume = atoms.get_volume() if relax_cell else None
    target = (FrechetCellFilter(atoms, scalar_pressure=pressure_gpa * ase.units.GPa)
              if relax_cell else atoms)
    dynamics = OPTIMIZERS[optimizer](target, logfile=logfile, trajectory=trajectory)
    converged = bool(dynamics.run(fmax=fmax_ev_per_angstrom, steps=max_steps))
    stress = atoms.get_stress() if atoms.pbc.all() else None  # Voigt, eV/Å³
    return RelaxSummary(
        converged, dynamics.get_number_of_steps(), initial, atoms.get_potential_energy(),
        float(np.linalg.norm(atoms.get_forces(), axis=1).max()),
        None if stress is None else float(np.abs(stress).max()),
        None if stress is None else float(-stress[:3].mean() / ase.units.GPa),
        None if initial_volume is None else (initial_volume, atoms.get_volume()))
