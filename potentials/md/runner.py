"""Run MD with ASE integrators on any calculator, with a live progress bar and a summary."""

from __future__ import annotations

import time

import ase
import ase.units
import numpy as np
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import MTKNPT
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
from ase.md.verlet import VelocityVerlet
from tqdm import tqdm

from potentials.md.observations import MDSummary, Observations
from potentials.md.options import MDOptions
from potentials.md.trajectory import TrajectoryOutput
from potentials.units import MEV_PER_EV


def state_is_finite(atoms: ase.Atoms) -> bool:
    """Whether the positions, momenta and (if periodic) the cell are all finite numbers."""
    arrays = [atoms.positions, atoms.get_momenta()]
    if atoms.pbc.any():
        arrays.append(atoms.cell.array)
    return all(np.isfinite(array).all() for array in arrays)


VELOCITY_STREAM, THERMOSTAT_STREAM = 0, 1
"""Which of the random streams spawned from ``MDOptions.seed`` each use draws from."""


def random_stream(seed: int, stream: int) -> np.random.Generator:
    """Generator of child ``stream`` of ``SeedSequence(seed)``: streams are independent."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(stream + 1)[stream])


class _UncertaintyLimit(Exception):
    """A committee disagreed more than ``MDOptions.max_force_uncertainty_ev_per_angstrom``."""


def _write_and_check(atoms: ase.Atoms, observations: Observations, options: MDOptions,
                     output: TrajectoryOutput | None) -> None:
    """Write the state just recorded if it is due; past
    ``options.max_force_uncertainty_ev_per_angstrom`` write it anyway (the state worth
    relabelling) and stop the run with `_UncertaintyLimit`. A limit set for a model without
    σF (not a committee) is a ValueError."""
    step = len(observations.totals) - 1
    limit = options.max_force_uncertainty_ev_per_angstrom
    if limit is not None and not observations.spreads:
        raise ValueError("a force-uncertainty limit needs a committee model (its members' "
                         "disagreement σF); this model is a single one")
    largest = observations.spreads[-1] if limit is not None else None
    exceeded = largest is not None and largest > limit
    if output is not None and (step % options.write_every == 0 or exceeded):
        output.write(atoms)
    if exceeded:
        raise _UncertaintyLimit(
            f"at step {step} the committee's largest per-atom σF, {MEV_PER_EV * largest:.1f} "
            f"meV/Å, exceeded the limit of {MEV_PER_EV * limit:g} meV/Å: the structure is "
            f"unlike the training data (the trajectory ends with it)")


def check_ensemble(atoms: ase.Atoms, options: MDOptions) -> None:
    """Raise ValueError if ``options.ensemble`` cannot run on ``atoms`` (npt needs a cell
    periodic in all three directions)."""
    if options.ensemble == "npt" and not atoms.pbc.all():
        raise ValueError(f"npt needs a cell periodic in all directions, pbc={atoms.pbc.tolist()}")


def build_dynamics(atoms: ase.Atoms, options: MDOptions):
    """The ASE integrator for ``options.ensemble``."""
    check_ensemble(atoms, options)
    timestep = options.timestep_fs * ase.units.fs
    rng = random_stream(options.seed, THERMOSTAT_STREAM)
    if options.ensemble == "nve":
        return VelocityVerlet(atoms, timestep=timestep)
    if options.ensemble == "nvt":
        return Langevin(atoms, timestep=timestep, temperature_K=options.temperature_kelvin,
                        friction=options.friction_per_fs / ase.units.fs, fixcm=False, rng=rng)
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
    A diverging integration raises `UnstableDynamicsError` at the first step it shows; a
    committee disagreeing more than ``options.max_force_uncertainty_ev_per_angstrom`` ends
    the run early, saying so in the summary's ``stop_reason``.
    """
    dynamics = build_dynamics(atoms, options)
    observations = Observations()
    bar = tqdm(total=options.steps, unit="step", disable=not progress, smoothing=0.1)

    def observe() -> None:
        if not state_is_finite(atoms):
            raise observations.divergence(options)
        observations.record(atoms)
        _write_and_check(atoms, observations, options, output)
        step = len(observations.totals) - 1
        if step > 0:
            bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(observations.progress_postfix())

    stop_reason = None
    dynamics.attach(observe, interval=1)  # ASE also calls it once before the first step
    start = time.perf_counter()
    try:
        # a diverging integrator overflows before its state turns NaN; the check in observe
        # reports that state, so numpy's warnings on the way would only add noise
        with np.errstate(over="ignore", invalid="ignore"):
            dynamics.run(options.steps)
    except KeyboardInterrupt:
        bar.write("interrupted: summarising the steps done so far")
    except _UncertaintyLimit as limit:
        stop_reason = str(limit)
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
    summary = observations.summary(len(atoms), options, wall,
                                   output.count if output is not None else 0)
    summary.stop_reason = stop_reason
    return summary
