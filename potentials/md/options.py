"""User-facing options of ``potentials md`` and ``potentials relax``, in stated units."""

from __future__ import annotations

from dataclasses import dataclass

ENSEMBLES = ("nve", "nvt", "npt")


@dataclass(frozen=True)
class MDOptions:
    """Molecular dynamics settings.

    Attributes
    ----------
    ensemble
        ``nve`` (velocity Verlet), ``nvt`` (Langevin) or ``npt`` (MTK Nosé-Hoover chains with
        a fully flexible cell; needs a 3-D periodic cell).
    temperature_kelvin
        Initial (Maxwell-Boltzmann) and target temperature in K.
    pressure_gpa
        Target pressure in GPa (npt only).
    timestep_fs
        Integration time step in fs.
    steps
        Number of MD steps.
    friction_per_fs
        Langevin friction in 1/fs (nvt).
    thermostat_fs, barostat_fs
        Nosé-Hoover thermostat and barostat relaxation times in fs (npt).
    write_every
        Write one frame every this many steps.
    seed
        Seed of the initial velocities and of the Langevin noise (two independent streams
        spawned from it).
    max_force_uncertainty_ev_per_angstrom
        With a committee model: stop the run at the first state whose largest per-atom force
        disagreement σF exceeds this, in eV/Å (the model is extrapolating); None: never.
    """

    ensemble: str = "nvt"
    temperature_kelvin: float = 300.0
    pressure_gpa: float = 0.0
    timestep_fs: float = 0.5
    steps: int = 2000
    friction_per_fs: float = 0.01
    thermostat_fs: float = 50.0
    barostat_fs: float = 500.0
    write_every: int = 10
    seed: int = 0
    max_force_uncertainty_ev_per_angstrom: float | None = None

    def __post_init__(self) -> None:
        if self.ensemble not in ENSEMBLES:
            raise ValueError(f"ensemble must be one of {ENSEMBLES}, got '{self.ensemble}'")
        positive = {"timestep_fs": self.timestep_fs, "steps": self.steps,
                    "write_every": self.write_every, "friction_per_fs": self.friction_per_fs,
                    "thermostat_fs": self.thermostat_fs, "barostat_fs": self.barostat_fs}
        for name, value in positive.items():
            if value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if self.pressure_gpa and self.ensemble != "npt":
            raise ValueError(f"a pressure ({self.pressure_gpa} GPa) acts only in the npt "
                             f"ensemble, not in {self.ensemble}")
        limit = self.max_force_uncertainty_ev_per_angstrom
        if limit is not None and not limit > 0:
            raise ValueError(f"max_force_uncertainty_ev_per_angstrom must be > 0, got {limit}")
        if self.temperature_kelvin < 0:
            raise ValueError(f"temperature_kelvin must be >= 0, got {self.temperature_kelvin}")
