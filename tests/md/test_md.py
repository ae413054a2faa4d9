"""MD runner: ensembles, energy conservation, trajectory output, relaxation."""

from __future__ import annotations

import ase
import ase.units
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones as AseLennardJones
from matplotlib.image import imread

from potentials import EquiCalculator
from potentials.data import TrajectoryFile
from potentials.md.observations import MDSummary, Observations, UnstableDynamicsError
from potentials.md.options import MDOptions
from potentials.md.plot import plot_md_run
from potentials.md.relax import relax
from potentials.md.runner import (
    THERMOSTAT_STREAM,
    VELOCITY_STREAM,
    build_dynamics,
    initialise_velocities,
    random_stream,
    run_md,
)
from potentials.md.trajectory import TrajectoryOutput
from potentials.model import LennardJones
from potentials.model.committee import CommitteePotential
from tests.builders import make_model, random_structure


def lennard_jones_crystal() -> ase.Atoms:
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2)
    atoms.calc = EquiCalculator(LennardJones(0.4, 2.3, 5.0), device="cpu")
    return atoms


def test_nve_conserves_energy_and_writes_hdf5(tmp_path):
    atoms = lennard_jones_crystal()
    options = MDOptions("nve", temperature_kelvin=100, timestep_fs=1.0, steps=200,
                        write_every=20)
    initialise_velocities(atoms, options)
    with TrajectoryOutput(tmp_path / "md.h5") as output:
        summary = run_md(atoms, options, output, progress=False)
    assert summary.steps == 200
    assert abs(summary.energy_drift_mev_per_atom_per_ps) < 1.0
    assert summary.max_energy_deviation_mev_per_atom < 1.0
    with TrajectoryFile(tmp_path / "md.h5") as trajectory:
        assert len(trajectory) == 11
        last = trajectory[len(trajectory) - 1]
        np.testing.assert_allclose(last.get_forces(), atoms.calc.get_forces(last), atol=1e-10)
        assert last.info["temperature_kelvin"] > 0


EXPLOSION = ValueError("atoms 0 and 1 are closer than 0.1 Å")
"""The error EquiCalculator raises when a simulation blows up."""


class ExplodingLennardJones(AseLennardJones):
    """ASE's Lennard-Jones calculator raising ``error`` on calculation ``failing_calculation``."""

    def __init__(self, failing_calculation: int, error: BaseException = EXPLOSION):
        super().__init__(epsilon=0.4, sigma=2.3, rc=5.0)
        self.failing_calculation, self.calculations, self.error = failing_calculation, 0, error

    def calculate(self, *args, **kwargs) -> None:
        self.calculations += 1
        if self.calculations == self.failing_calculation:
            raise self.error
        super().calculate(*args, **kwargs)


@pytest.mark.parametrize(("failing_calculation", "frames_kept"), [(6, 5), (1, None)])
def test_crash_keeps_the_frames_before_it_and_propagates(tmp_path, failing_calculation,
                                                         frames_kept):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = ExplodingLennardJones(failing_calculation)
    options = MDOptions("nve", temperature_kelvin=100, timestep_fs=1.0, steps=20, write_every=1)
    initialise_velocities(atoms, options)
    with pytest.raises(ValueError, match="closer than 0.1"):
        with TrajectoryOutput(tmp_path / "md.h5") as output:
            run_md(atoms, options, output, progress=False)
    if frames_kept is None:
        assert list(tmp_path.iterdir()) == []
        return
    with TrajectoryFile(tmp_path / "md.h5") as trajectory:
        assert len(trajectory) == frames_kept
        assert trajectory[frames_kept - 1].get_forces().shape == (len(atoms), 3)


class DivergingLennardJones(AseLennardJones):
    """ASE's Lennard-Jones calculator whose forces are NaN from calculation ``first_nan`` on."""

    def __init__(self, first_nan: int):
        super().__init__(epsilon=0.4, sigma=2.3, rc=5.0)
        self.first_nan, self.calculations = first_nan, 0

    def calculate(self, *args, **kwargs) -> None:
        super().calculate(*args, **kwargs)
        self.calculations += 1
        if self.calculations >= self.first_nan:
            self.results["forces"] = np.full_like(self.results["forces"], np.nan)


def test_divergence_stops_at_its_first_step_and_keeps_the_frames_before(tmp_path):
    """Calculation 6 is that of step 5: its NaN forces turn the momenta NaN in that step."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = DivergingLennardJones(first_nan=6)
    options = MDOptions("nve", temperature_kelvin=100, timestep_fs=2.0, steps=20, write_every=1)
    initialise_velocities(atoms, options)
    with pytest.raises(UnstableDynamicsError, match=r"diverged at step 5 \(10 fs\): NaN or "
                       r"infinite positions, momenta or cell; last sound state: \d+ K \(target "
                       r"100 K\), cell volume 46.7 Å³ \(started at 46.7 Å³\); try a shorter"):
        with TrajectoryOutput(tmp_path / "md.h5") as output:
            run_md(atoms, options, output, progress=False)
    with TrajectoryFile(tmp_path / "md.h5") as trajectory:
        assert len(trajectory) == 5
        assert np.isfinite(trajectory[4].get_momenta()).all()


def test_a_failed_barostat_update_is_reported_as_divergence():
    """ASE's MTK barostat raises LinAlgError on a cell it cannot exponentiate."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = ExplodingLennardJones(4, np.linalg.LinAlgError("Eigenvalues did not converge"))
    options = MDOptions("npt", temperature_kelvin=300, pressure_gpa=-50, steps=10)
    with pytest.raises(UnstableDynamicsError, match=r"step 3 .*could not update the cell "
                       r"\(Eigenvalues did not converge\).*withstand -50 GPa"):
        run_md(atoms, options, progress=False)


def test_interrupt_before_the_first_state_is_summarised(tmp_path):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = ExplodingLennardJones(1, KeyboardInterrupt())
    with TrajectoryOutput(tmp_path / "md.h5") as output:
        summary = run_md(atoms, MDOptions("nve", steps=5), output, progress=False)
    assert (summary.steps, summary.frames_written, summary.observed) == (0, 0, False)
    assert "interrupted before the first state" in summary.format("nve")


def test_rates_of_a_zero_wall_time_are_nan():
    summary = MDSummary(steps=0, simulated_ps=0.0, wall_seconds=0.0,
                        mean_temperature_kelvin=300.0, std_temperature_kelvin=0.0,
                        mean_potential_energy_ev=-1.0, energy_drift_mev_per_atom_per_ps=0.0,
                        max_energy_deviation_mev_per_atom=0.0, frames_written=0)
    assert np.isnan(summary.steps_per_second) and np.isnan(summary.ns_per_day)
    assert "nan steps/s" in summary.format("nve")


def test_velocities_and_langevin_noise_use_independent_streams():
    options = MDOptions("nvt", seed=7)
    atoms = lennard_jones_crystal()
    initialise_velocities(atoms, options)
    velocities = atoms.get_velocities()
    initialise_velocities(atoms, options)
    np.testing.assert_array_equal(atoms.get_velocities(), velocities)
    noise = build_dynamics(atoms, options).rng.standard_normal(8)
    velocity_draws = random_stream(options.seed, VELOCITY_STREAM).standard_normal(8)
    assert not np.allclose(noise, velocity_draws)
    np.testing.assert_array_equal(
        noise, random_stream(options.seed, THERMOSTAT_STREAM).standard_normal(8))


def test_nvt_reaches_target_temperature():
    atoms = lennard_jones_crystal()
    options = MDOptions("nvt", temperature_kelvin=300, timestep_fs=2.0, steps=600,
                        friction_per_fs=0.05)
    initialise_velocities(atoms, MDOptions(temperature_kelvin=0.0))
    summary = run_md(atoms, options, progress=False)
    assert 150 < summary.mean_temperature_kelvin < 450


def test_npt_changes_the_cell_and_writes_extxyz(tmp_path):
    atoms = lennard_jones_crystal()
    volume = atoms.get_volume()
    options = MDOptions("npt", temperature_kelvin=300, pressure_gpa=1.0, timestep_fs=2.0,
                        steps=100, barostat_fs=100.0, write_every=50)
    initialise_velocities(atoms, options)
    with TrajectoryOutput(tmp_path / "md.extxyz") as output:
        run_md(atoms, options, output, progress=False)
    assert atoms.get_volume() != pytest.approx(volume, rel=1e-6)
    assert len(ase.io.read(tmp_path / "md.extxyz", ":")) == 3


def test_committee_disagreement_is_summarised_and_written(tmp_path):
    atoms = random_structure(4, n_atoms=6, min_distance=1.1)
    committee = CommitteePotential([make_model("vector-hidden"), make_model("scalar-hidden")])
    atoms.calc = EquiCalculator(committee, device="cpu")
    options = MDOptions("nve", temperature_kelvin=100, timestep_fs=0.5, steps=4, write_every=2)
    initialise_velocities(atoms, options)
    with TrajectoryOutput(tmp_path / "md.extxyz") as output:
        summary = run_md(atoms, options, output, progress=False)
    spreads = summary.largest_force_uncertainties_ev_per_angstrom
    assert spreads.shape == (5,) and spreads.min() > 0
    assert spreads[-1] == pytest.approx(atoms.calc.results["forces_uncertainty"].max())
    assert f"largest {1000 * spreads.max():.1f} meV/Å" in summary.format("nve")
    last = ase.io.read(tmp_path / "md.extxyz", -1)
    np.testing.assert_allclose(last.arrays["forces_uncertainty"],  # extxyz keeps 8 digits
                               atoms.calc.results["forces_uncertainty"], rtol=1e-6)
    assert last.info["energy_uncertainty"] == pytest.approx(
        atoms.calc.results["energy_uncertainty"], rel=1e-6)
    alone = run_md(lennard_jones_crystal(), MDOptions("nve", steps=2), progress=False)
    assert len(alone.largest_force_uncertainties_ev_per_angstrom) == 0
    assert "disagreement" not in alone.format("nve")


def test_npt_needs_a_periodic_cell():
    atoms = ase.Atoms("CO", positions=[[0, 0, 0], [1.2, 0, 0]])
    atoms.calc = EquiCalculator(make_model("scalar-hidden"), device="cpu")
    with pytest.raises(ValueError, match="periodic"):
        run_md(atoms, MDOptions("npt", steps=2), progress=False)


def test_existing_output_is_refused(tmp_path):
    (tmp_path / "md.h5").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        TrajectoryOutput(tmp_path / "md.h5")


@pytest.mark.parametrize("optimizer", ["bfgs", "fire"])
def test_relaxation_converges(optimizer):
    atoms = lennard_jones_crystal()
    atoms.rattle(0.05, seed=3)
    summary = relax(atoms, fmax_ev_per_angstrom=0.01, optimizer=optimizer, logfile=None)
    assert summary.converged
    assert summary.max_force_ev_per_angstrom < 0.01
    assert summary.final_energy_ev < summary.initial_energy_ev


def test_cell_relaxation_converges_stress():
    atoms = lennard_jones_crystal()
    atoms.set_cell(atoms.cell * 1.03, scale_atoms=True)
    summary = relax(atoms, fmax_ev_per_angstrom=1e-4, relax_cell=True, logfile=None)
    assert summary.converged
    assert summary.max_stress_ev_per_angstrom3 < 1e-4


def test_cell_relaxed_under_pressure_holds_that_pressure_in_a_smaller_volume():
    """Minimising E + pV: the relaxed cell's pressure −trace(σ)/3 is the one applied, its
    stress isotropic (cubic crystal), its volume below the zero-pressure one."""
    volumes = {}
    for pressure_gpa in (0.0, 10.0):
        atoms = lennard_jones_crystal()
        summary = relax(atoms, fmax_ev_per_angstrom=1e-4, relax_cell=True, logfile=None,
                        pressure_gpa=pressure_gpa)
        assert summary.converged
        assert summary.pressure_gpa == pytest.approx(pressure_gpa, abs=0.01)
        assert f"pressure {summary.pressure_gpa:.4f} GPa" in summary.format()
        stress_gpa = atoms.get_stress(voigt=False) / ase.units.GPa
        np.testing.assert_allclose(stress_gpa, -pressure_gpa * np.eye(3), atol=0.01)
        volumes[pressure_gpa] = atoms.get_volume()
        before, after = summary.volumes_angstrom3
        assert before == pytest.approx(lennard_jones_crystal().get_volume(), rel=1e-12)
        assert after == pytest.approx(volumes[pressure_gpa], rel=1e-12)
        assert f"volume {before:.3f} -> {after:.3f} Å³" in summary.format()
    assert volumes[10.0] < 0.99 * volumes[0.0]  # 2.6 % smaller (bulk modulus ~400 GPa)


def test_a_pressure_needs_the_cell_relaxed():
    with pytest.raises(ValueError, match=r"a pressure \(1.0 GPa\) acts on the cell"):
        relax(lennard_jones_crystal(), pressure_gpa=1.0, logfile=None)


@pytest.mark.parametrize(("timestep_fs", "unstable"), [(2.0, False), (60.0, True)])
def test_a_time_step_too_long_is_reported_as_unstable(timestep_fs, unstable):
    """The Lennard-Jones Cu crystal keeps its 300 K at 2 fs (and at 20 fs) and heats to
    ~10^32 K within 40 steps of 60 fs (measured): velocity Verlet is unstable there."""
    atoms = lennard_jones_crystal()
    options = MDOptions("nve", 300.0, timestep_fs=timestep_fs, steps=40)
    initialise_velocities(atoms, options)
    summary = run_md(atoms, options, progress=False)
    assert summary.overheated is unstable
    assert ("dynamics is unstable" in summary.format("nve")) is unstable


@pytest.mark.parametrize(("ensemble", "extras", "panels"), [
    ("nvt", {}, 3), ("nvt", {"spreads": [0.02] * 3}, 4), ("nvt", {"volumes": [40.0] * 3}, 3),
    ("npt", {"spreads": [0.02] * 3, "volumes": [40.0] * 3}, 5)])
def test_the_run_plot_has_a_panel_per_recorded_quantity(tmp_path, ensemble, extras, panels):
    """Temperature, potential and total energy always; a committee's spread when recorded;
    the volume of a cell that can change (the figure is 2.2 inches per panel plus 0.6, at
    120 dpi)."""
    observations = Observations(temperatures=[300.0, 310.0, 305.0], potentials=[-1.0, -0.9, -1.1],
                                totals=[0.0, 0.01, -0.01], **extras)
    plot_md_run(observations, MDOptions(ensemble), 3, tmp_path / "run.png", "test")
    assert imread(tmp_path / "run.png").shape[0] == round(120 * (2.2 * panels + 0.6))


def test_a_committee_disagreeing_past_the_limit_stops_the_run_at_that_state(tmp_path):
    """Rerun (deterministic) with a limit just below the first rise of σF above its start:
    the run stops at that state, writes it last, and says so in the summary."""
    committee = CommitteePotential([make_model("vector-hidden"), make_model("scalar-hidden")])

    def run(limit, path):
        atoms = random_structure(4, n_atoms=6, min_distance=1.1)
        atoms.calc = EquiCalculator(committee, device="cpu")
        options = MDOptions("nve", temperature_kelvin=300, timestep_fs=0.5, steps=30,
                            write_every=10, max_force_uncertainty_ev_per_angstrom=limit)
        initialise_velocities(atoms, options)
        with TrajectoryOutput(path) as output:
            return run_md(atoms, options, output, progress=False)

    free = run(None, tmp_path / "free.extxyz").largest_force_uncertainties_ev_per_angstrom
    stop = int(np.argmax(np.maximum.accumulate(free) > free[0]))  # first new maximum
    assert stop > 0
    summary = run(free[:stop].max(), tmp_path / "limited.extxyz")
    assert summary.steps == stop
    assert summary.stop_reason.startswith(f"at step {stop} the committee's largest")
    assert f"stopped early: at step {stop}" in summary.format("nve")
    frames = ase.io.read(tmp_path / "limited.extxyz", ":")
    assert len(frames) == len(range(0, stop, 10)) + (stop % 10 != 0)
    assert frames[-1].arrays["forces_uncertainty"].max() == pytest.approx(free[stop], rel=1e-6)


def test_an_uncertainty_limit_needs_a_committee(tmp_path):
    atoms = lennard_jones_crystal()
    options = MDOptions("nve", steps=3, max_force_uncertainty_ev_per_angstrom=0.05)
    with pytest.raises(ValueError, match="needs a committee model"):
        with TrajectoryOutput(tmp_path / "md.h5") as output:
            run_md(atoms, options, output, progress=False)
    assert not (tmp_path / "md.h5").exists()
