"""What an MD run records at each state, the summary made of it, and the error of a run
that diverges."""

from __future__ import annotations

from dataclasses import dataclass, field

import ase
import numpy as np

from potentials.md.options import MDOptions
from potentials.units import MEV_PER_EV

OVERHEATING_FACTOR = 5.0
"""An MD run whose temperature exceeds this many times its target is reported as unstable."""


class UnstableDynamicsError(FloatingPointError):
    """The integration diverged: NaN or infinite positions, momenta or cell, or a cell the
    barostat could no longer handle. The frames written before it are kept, and
    ``observations`` holds every state recorded before it (to plot the run up to there)."""

    def __init__(self, message: str, observations: Observations) -> None:
        super().__init__(message)
        self.observations = observations


NON_FINITE_STATE = "NaN or infinite positions, momenta or cell"


@dataclass
class Observations:
    """What a run recorded at each state: temperature [K], potential and total energy [eV],
    a committee's largest per-atom force disagreement [eV/Å] and the volume of a 3-D periodic
    cell [Å³] (the last two only where they exist)."""

    temperatures: list[float] = field(default_factory=list)
    potentials: list[float] = field(default_factory=list)
    totals: list[float] = field(default_factory=list)
    spreads: list[float] = field(default_factory=list)
    volumes: list[float] = field(default_factory=list)

    def record(self, atoms: ase.Atoms) -> None:
        """Add the state of ``atoms`` (its calculator attached)."""
        potential = atoms.get_potential_energy()
        self.temperatures.append(atoms.get_temperature())
        self.potentials.append(potential)
        self.totals.append(potential + atoms.get_kinetic_energy())
        if "forces_uncertainty" in atoms.calc.results:
            self.spreads.append(float(atoms.calc.results["forces_uncertainty"].max()))
        if atoms.pbc.all():
            self.volumes.append(atoms.get_volume())

    def times_ps(self, timestep_fs: float) -> np.ndarray:
        """[n_states] time of each recorded state in ps."""
        return np.arange(len(self.totals)) * timestep_fs / 1000.0

    def energies_mev_per_atom(self, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
        """Potential and total energy of each state in meV/atom, relative to the first
        total energy."""
        start = self.totals[0]
        return (MEV_PER_EV * (np.array(self.potentials) - start) / n_atoms,
                MEV_PER_EV * (np.array(self.totals) - start) / n_atoms)

    def progress_postfix(self) -> dict[str, str]:
        """The last state, for the progress bar."""
        postfix = {"T": f"{self.temperatures[-1]:.0f} K", "Epot": f"{self.potentials[-1]:.3f} eV",
                   "Etot": f"{self.totals[-1]:.3f} eV"}
        if self.spreads:
            postfix["σF"] = f"{MEV_PER_EV * self.spreads[-1]:.0f} meV/Å"
        return postfix

    def divergence(self, options: MDOptions, symptom: str = NON_FINITE_STATE
                   ) -> UnstableDynamicsError:
        """The error of a run that diverged in the step after the last state recorded: where,
        the last sound state and what to change (for the ensemble)."""
        step = len(self.totals)
        parts = [f"the dynamics diverged at step {step} ({step * options.timestep_fs:g} fs): "
                 f"{symptom}"]
        if self.temperatures:
            last = (f"last sound state: {self.temperatures[-1]:.0f} K (target "
                    f"{options.temperature_kelvin:g} K)")
            if self.volumes:
                last += (f", cell volume {self.volumes[-1]:.1f} Å³ (started at "
                         f"{self.volumes[0]:.1f} Å³)")
            parts.append(last)
        if options.ensemble == "npt":
            parts.append(f"the cell may not withstand {options.pressure_gpa:g} GPa with this "
                         f"model, or the barostat ({options.barostat_fs:g} fs) is too fast: "
                         f"try a smaller pressure, a longer barostat time or a shorter time "
                         f"step")
        else:
            parts.append(f"try a shorter time step than {options.timestep_fs:g} fs, or check "
                         f"that the structure is like the model's training data")
        return UnstableDynamicsError("; ".join(parts), self)

    def summary(self, n_atoms: int, options: MDOptions, wall: float, frames: int
                ) -> MDSummary:
        """The summary of the states recorded; NaN statistics if there are none."""
        if not self.totals:
            nan = float("nan")
            return MDSummary(steps=0, simulated_ps=0.0, wall_seconds=wall,
                             mean_temperature_kelvin=nan, std_temperature_kelvin=nan,
                             mean_potential_energy_ev=nan,
                             energy_drift_mev_per_atom_per_ps=nan,
                             max_energy_deviation_mev_per_atom=nan, frames_written=frames,
                             observations=self)
        temperatures = np.array(self.temperatures)
        steps = len(self.totals) - 1
        times_ps = self.times_ps(options.timestep_fs)
        per_atom_mev = self.energies_mev_per_atom(n_atoms)[1]
        slope = float(np.polyfit(times_ps, per_atom_mev, 1)[0]) if steps > 1 else 0.0
        return MDSummary(
            steps=steps, simulated_ps=float(times_ps[-1]), wall_seconds=wall,
            mean_temperature_kelvin=float(temperatures.mean()),
            std_temperature_kelvin=float(temperatures.std()),
            mean_potential_energy_ev=float(np.mean(self.potentials)),
            energy_drift_mev_per_atom_per_ps=slope,
            max_energy_deviation_mev_per_atom=float(np.abs(per_atom_mev).max()),
            frames_written=frames, max_temperature_kelvin=float(temperatures.max()),
            target_temperature_kelvin=options.temperature_kelvin, observations=self)


@dataclass
class MDSummary:
    """What an MD run measured (temperatures in K, energies in eV, drift in meV/atom/ps).

    ``observations`` holds every recorded state (for plots). The highest temperature reached
    is compared with the target to flag unstable runs. ``stop_reason`` says why a run ended
    before its last step, if a limit of `MDOptions` stopped it.
    """

    steps: int
    simulated_ps: float
    wall_seconds: float
    mean_temperature_kelvin: float
    std_temperature_kelvin: float
    mean_potential_energy_ev: float
    energy_drift_mev_per_atom_per_ps: float
    max_energy_deviation_mev_per_atom: float
    frames_written: int
    max_temperature_kelvin: float = float("nan")
    target_temperature_kelvin: float = float("nan")
    observations: Observations = field(default_factory=Observations)
    stop_reason: str | None = None

    @property
    def largest_force_uncertainties_ev_per_angstrom(self) -> np.ndarray:
        """A committee's largest per-atom force disagreement [eV/Å] in each recorded state
        (empty for a single model)."""
        return np.array(self.observations.spreads)

    @property
    def overheated(self) -> bool:
        """Whether the temperature rose above ``OVERHEATING_FACTOR`` times the target (or
        times 100 K for targets below 100 K): the mark of an unstable integration."""
        limit = OVERHEATING_FACTOR * max(self.target_temperature_kelvin, 100.0)
        return bool(self.max_temperature_kelvin > limit)

    @property
    def steps_per_second(self) -> float:
        """MD steps per wall-clock second (NaN if no time was measured)."""
        return self.steps / self.wall_seconds if self.wall_seconds > 0 else float("nan")

    @property
    def ns_per_day(self) -> float:
        """Simulated ns per wall-clock day (NaN if no time was measured)."""
        if self.wall_seconds <= 0:
            return float("nan")
        return self.simulated_ps / 1000.0 / (self.wall_seconds / 86400.0)

    @property
    def observed(self) -> bool:
        """Whether any state was recorded (not so if interrupted before the first one)."""
        return not np.isnan(self.mean_potential_energy_ev)

    def format(self, ensemble: str) -> str:
        """A three-line report: speed, temperature and energy, total-energy conservation."""
        speed = (f"{self.steps} steps, {self.simulated_ps:.3f} ps in {self.wall_seconds:.1f} s "
                 f"({self.steps_per_second:.1f} steps/s, {self.ns_per_day:.3f} ns/day)")
        if not self.observed:
            return f"{speed}\ninterrupted before the first state was recorded"
        lines = [
            speed,
            f"temperature {self.mean_temperature_kelvin:.1f} ± "
            f"{self.std_temperature_kelvin:.1f} K, mean potential energy "
            f"{self.mean_potential_energy_ev:.4f} eV",
            f"total-energy drift {self.energy_drift_mev_per_atom_per_ps:+.4f} meV/atom/ps, "
            f"largest deviation {self.max_energy_deviation_mev_per_atom:.4f} meV/atom"
            + ("" if ensemble == "nve" else " (thermostatted: not conserved)"),
        ]
        if self.overheated:
            lines.insert(2, f"warning: the temperature reached {self.max_temperature_kelvin:.0f} "
                         f"K against a target of {self.target_temperature_kelvin:g} K: the "
                         f"dynamics is unstable; try a shorter time step, or check that the "
                         f"structure is like the model's training data")
        spreads = MEV_PER_EV * self.largest_force_uncertainties_ev_per_angstrom
        if len(spreads):
            lines.append(
                f"committee force disagreement, largest per-atom σ_F of each state: median "
                f"{np.median(spreads):.1f} meV/Å, largest {spreads.max():.1f} meV/Å "
                f"(step {int(spreads.argmax())})")
        if self.stop_reason is not None:
            lines.append(f"stopped early: {self.stop_reason}")
        return "\n".join(lines)
