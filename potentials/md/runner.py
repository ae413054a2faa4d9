"""Run MD with ASE integrators on any calculator, with a live progress bar and a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import ase
import ase.units
import numpy as np
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import MTKNPT
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
from ase.md.verlet import VelocityVerlet
from tqdm import tqdm

from potentials.md.options import MDOptions
from potentials.md.trajectory import TrajectoryOutput
from potentials.units import MEV_PER_EV

OVERHEATING_FACTOR = 5.0
"""An MD run whose temperature exceeds this many times its target is reported as unstable."""


@dataclass
class MDSummary:
    """What an MD run measured (temperatures in K, energies in eV, drift in meV/atom/ps).

    With a committee model, ``largest_force_uncertainties_ev_per_angstrom`` holds, per
    recorded state, the largest per-atom force disagreement of its members (empty otherwise).
    The highest temperature reached is compared with the target to flag unstable runs.
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
    largest_force_uncertainties_ev_per_angstrom: np.ndarray = field(
        default_factory=lambda: np.empty(0))
    max_temperature_kelvin: float = float("nan")
    target_temperature_kelvin: float = float("nan")

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
        return "\n".join(lines)


class UnstableDynamicsError(FloatingPointError):
    """The integration diverged: NaN or infinite positions, momenta or cell, or a cell the
    barostat could no longer handle. The frames written before it are kept."""


def state_is_finite(atoms: ase.Atoms) -> bool:
    """Whether the positions, momenta and (if periodic) the cell are all finite numbers."""
    arrays = [atoms.positions, atoms.get_momenta()]
    if atoms.pbc.any():
        arrays.append(atoms.cell.array)
    return all(np.isfinite(array).all() for array in arrays)


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
        return UnstableDynamicsError("; ".join(parts))

    def summary(self, n_atoms: int, options: MDOptions, wall: float, frames: int
                ) -> MDSummary:
        """The summary of the states recorded; NaN statistics if there are none."""
        if not self.totals:
            nan = float("nan")
            return MDSummary(steps=0, simulated_ps=0.0, wall_seconds=wall,
                             mean_temperature_kelvin=nan, std_temperature_kelvin=nan,
                             mean_potential_energy_ev=nan,
                             energy_drift_mev_per_atom_per_ps=nan,
                             max_energy_deviation_mev_per_atom=nan, frames_written=frames)
        temperatures, totals = np.array(self.temperatures), np.array(self.totals)
        steps = len(totals) - 1
        times_ps = np.arange(len(totals)) * options.timestep_fs / 1000.0
        per_atom_mev = MEV_PER_EV * (totals - totals[0]) / n_atoms
        slope = float(np.polyfit(times_ps, per_atom_mev, 1)[0]) if steps > 1 else 0.0
        return MDSummary(
            steps=steps, simulated_ps=float(times_ps[-1]), wall_seconds=wall,
            mean_temperature_kelvin=float(temperatures.mean()),
            std_temperature_kelvin=float(temperatures.std()),
            mean_potential_energy_ev=float(np.mean(self.potentials)),
            energy_drift_mev_per_atom_per_ps=slope,
            max_energy_deviation_mev_per_atom=float(np.abs(per_atom_mev).max()),
            frames_written=frames, largest_force_uncertainties_ev_per_angstrom=np.array(
                self.spreads),
            max_temperature_kelvin=float(temperatures.max()),
            target_temperature_kelvin=options.temperature_kelvin)


VELOCITY_STREAM, THERMOSTAT_STREAM = 0, 1
"""Which of the random streams spawned from ``MDOptions.seed`` each use draws from."""


def random_stream(seed: int, stream: int) -> np.random.Generator:
    """Generator of child ``stream`` of ``SeedSequence(seed)``: streams are independent."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(stream + 1)[stream])


def build_dynamics(atoms: ase.Atoms, options: MDOptions):
    """The ASE integrator for ``options.ensemble``."""
    timestep = options.timestep_fs * ase.units.fs
    rng = random_stream(options.seed, THERMOSTAT_STREAM)
    if options.ensemble == "nve":
        return VelocityVerlet(atoms, timestep=timestep)
    if options.ensemble == "nvt":
        return Langevin(atoms, timestep=timestep, temperature_K=options.temperature_kelvin,
                        friction=options.friction_per_fs / ase.units.fs, fixcm=False, rng=rng)
    if not atoms.pbc.all():
        raise ValueError(f"npt needs a cell periodic in all directions, pbc={atoms.pbc.tolist()}")
    return MTKNPT(atoms, timestep=timestep, temperature_K=options.temperature_kelvin,
                  pressure_au=options.pressure_gpa * ase.units.GPa,
                  tdamp=options.thermostat_fs * ase.units.fs,
                  pdamp=options.barostat_fs * ase.units.fs)


def check_stored_velocities(atoms: ase.Atoms, source: str) -> None:
    """Raise ValueError unless ``atoms``, read from ``source``, carries velocities to continue
    a run from (the trajectories ``potentials md`` writes keep them, in every format)."""
    if not atoms.has("momenta"):
        raise ValueError(f"{source} holds no velocities to continue from: give a frame of a "
                         f"trajectory potentials md wrote (.h5, .xyz, .traj), or draw new "
                         f"velocities (--velocities maxwell)")


def initialise_velocities(atoms: ase.Atoms, options: MDOptions) -> None:
    """Maxwell-Boltzmann velocities at the target temperature, no net momentum or rotation."""
    rng = random_stream(options.seed, VELOCITY_STREAM)
    thermalize_momenta(atoms, temperature_K=options.temperature_kelvin, rng=rng)
    Stationary(atoms)
    if not atoms.pbc.any():
        ZeroRotation(atoms)


def run_md(atoms: ase.Atoms, options: MDOptions, output: TrajectoryOutput | None = None,
           progress: bool = True) -> MDSummary:
    """Run ``options.steps`` MD steps on ``atoms`` (its calculator attached); Ctrl-C stops early.

    The total energy per atom is recorded every step; its drift is the slope of a straight-
    line fit against time, in meV/atom/ps. A committee's largest per-atom force disagreement
    is recorded every step too (``forces_uncertainty``, :mod:`potentials.model.committee`).
    A diverging integration raises `UnstableDynamicsError` at the first step it shows.
    """
    dynamics = build_dynamics(atoms, options)
    observations = Observations()
    bar = tqdm(total=options.steps, unit="step", disable=not progress, smoothing=0.1)

    def observe() -> None:
        if not state_is_finite(atoms):
            raise observations.divergence(options)
        observations.record(atoms)
        step = len(observations.totals) - 1
        if output is not None and step % options.write_every == 0:
            output.write(atoms)
        if step > 0:
            bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(observations.progress_postfix())

    dynamics.attach(observe, interval=1)  # ASE also calls it once before the first step
    start = time.perf_counter()
    try:
        # a diverging integrator overflows before its state turns NaN; the check in observe
        # reports that state, so numpy's warnings on the way would only add noise
        with np.errstate(over="ignore", invalid="ignore"):
            dynamics.run(options.steps)
    except KeyboardInterrupt:
        bar.write("interrupted: summarising the steps done so far")
    except (ValueError, np.linalg.LinAlgError) as error:
        # mid-step: the calculator refuses NaN positions, the MTK barostat a wild cell
        bar.close()
        if isinstance(error, np.linalg.LinAlgError):
            raise observations.divergence(
                options, f"the barostat could not update the cell ({error})") from error
        if state_is_finite(atoms):
            raise
        raise observations.divergence(options) from error
    wall = time.perf_counter() - start
    bar.close()
    return observations.summary(len(atoms), options, wall,
                                output.count if output is not None else 0)
