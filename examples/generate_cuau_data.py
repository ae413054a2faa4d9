"""Generate a Cu–Au reference dataset with ASE's EMT calculator, as an HDF5 trajectory file.

An example of fitting a force field to a reference calculator: EMT stands in for DFT. The
frames are snapshots of short Langevin MD runs of random substitutional fcc Cu–Au alloys,

- ``bulk``: unstrained supercells (32 or 48 atoms, cubic; 27 atoms, primitive),
- ``strained``: the same under a random symmetric strain of up to ±4 % per component,
- ``vacancy``: supercells with one or two atoms removed,
- ``surface``: fcc(111) and fcc(100) slabs with 14 Å of vacuum along z,

at Au fractions 0, 1/8, ..., 1 and temperatures 300–1,400 K. The lattice constant follows
Vegard's law, ``a(x) = (1 - x) a_Cu + x a_Au`` with the Au fraction ``x``. Every frame is
periodic in 3-D (slabs are cells with vacuum) and carries the EMT energy [eV], forces [eV/Å]
and stress [eV/Å³], its ``config_type`` and the thermostat temperature [K]. Each config type
is written as one trajectory of the file (see ``docs/hdf5-format.md``).

Usage::

    mkdir -p runs/cuau_data && cd runs/cuau_data   # trained_models/cuau/config.yaml reads them here
    python ../../examples/generate_cuau_data.py --output cuau_train.h5 --frames 1000 --seed 0
    python ../../examples/generate_cuau_data.py --output cuau_test.h5 --frames 200 --seed 1

A seed fixes the whole file: every random choice, including the Langevin noise, is drawn
from one ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ase
import numpy as np
from ase import units
from ase.build import bulk, fcc100, fcc111
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixCom
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from tqdm import tqdm

from potentials.data import Frame, TrajectoryWriter, frame_from_atoms
from potentials.data.ase_frames import CONFIG_TYPE_KEY, TEMPERATURE_KEY

LATTICE_CONSTANT_ANGSTROM: dict[str, float] = {"Cu": 3.61, "Au": 4.08}
"""Experimental fcc lattice constants of the pure metals, the end points of Vegard's law."""
AU_FRACTIONS: np.ndarray = np.linspace(0.0, 1.0, 9)
"""Nominal Au fractions 0, 0.125, ..., 1; a cell holds the nearest whole number of Au atoms."""
TEMPERATURES_KELVIN: tuple[float, ...] = (300.0, 500.0, 700.0, 900.0, 1100.0, 1400.0)
"""Thermostat temperatures of the MD runs."""
CONFIG_MIX: dict[str, float] = {"bulk": 0.40, "strained": 0.25, "vacancy": 0.15,
                                "surface": 0.20}
"""Fraction of the frames of each config type."""
MAX_STRAIN: float = 0.04
"""Largest magnitude of any strain tensor component."""
SLAB_VACUUM_ANGSTROM: float = 7.0
"""Vacuum added on each side of a slab: 14 Å between periodic images along z, which stays
above 10 Å when a hot slab roughens."""
MAX_FORCE_EV_PER_ANGSTROM: float = 10.0
"""Snapshots with a larger atomic force are rejected as unphysical."""
BULK_CELLS: tuple[tuple[bool, tuple[int, int, int]], ...] = (
    (True, (2, 2, 2)),  # cubic, 32 atoms
    (True, (2, 2, 3)),  # cubic, 48 atoms
    (False, (3, 3, 3)),  # primitive (rhombohedral), 27 atoms
)
"""(cubic, repetitions) of the bulk supercells."""
SLABS: tuple[tuple[Callable[..., ase.Atoms], tuple[int, int, int]], ...] = (
    (fcc111, (2, 2, 6)),  # 24 atoms
    (fcc111, (2, 2, 8)),  # 32 atoms
    (fcc111, (3, 2, 6)),  # 36 atoms
    (fcc111, (2, 4, 5)),  # 40 atoms
    (fcc100, (2, 2, 6)),  # 24 atoms
    (fcc100, (3, 3, 4)),  # 36 atoms
    (fcc100, (2, 2, 10)),  # 40 atoms
)
"""(builder, size) of the slabs; an orthogonal fcc(111) cell needs an even second size."""


@dataclass(frozen=True)
class SamplingOptions:
    """How snapshots are taken from each Langevin MD run.

    Attributes
    ----------
    timestep_fs
        MD time step in fs.
    friction_per_fs
        Langevin friction in 1/fs (a thermostat relaxation time of ``1 / friction``).
    equilibration_steps
        Steps discarded at the start of each run.
    interval_steps
        Steps between two snapshots of a run.
    snapshots_per_run
        Snapshots taken from one run before a new structure is drawn.
    """

    timestep_fs: float = 4.0
    friction_per_fs: float = 0.02
    equilibration_steps: int = 100
    interval_steps: int = 25
    snapshots_per_run: int = 5


def frame_counts(n_frames: int) -> dict[str, int]:
    """Frames of each config type: `CONFIG_MIX` rounded by largest remainders.

    With at least four frames every config type gets at least one.
    """
    exact = {kind: fraction * n_frames for kind, fraction in CONFIG_MIX.items()}
    counts = {kind: int(np.floor(value)) for kind, value in exact.items()}
    by_remainder = sorted(exact, key=lambda kind: counts[kind] - exact[kind])
    for kind in by_remainder[: n_frames - sum(counts.values())]:
        counts[kind] += 1
    for kind in counts:
        if n_frames >= len(counts) and counts[kind] == 0:
            counts[max(counts, key=counts.get)] -= 1
            counts[kind] = 1
    return counts


def vegard_lattice_constant_angstrom(au_fraction: float) -> float:
    """Lattice constant [Å] linearly interpolated between fcc Cu and fcc Au."""
    cu, au = LATTICE_CONSTANT_ANGSTROM["Cu"], LATTICE_CONSTANT_ANGSTROM["Au"]
    return (1.0 - au_fraction) * cu + au_fraction * au


def draw_au_count(n_atoms: int, rng: np.random.Generator) -> int:
    """Number of Au atoms of an ``n_atoms`` cell at a random nominal Au fraction."""
    return int(round(rng.choice(AU_FRACTIONS) * n_atoms))


def occupy(atoms: ase.Atoms, n_au: int, rng: np.random.Generator) -> ase.Atoms:
    """``atoms`` with Cu on every site but ``n_au`` random ones, which hold Au."""
    symbols = np.full(len(atoms), "Cu")
    symbols[rng.choice(len(atoms), size=n_au, replace=False)] = "Au"
    atoms.set_chemical_symbols(symbols.tolist())
    return atoms


def build_bulk(rng: np.random.Generator) -> ase.Atoms:
    """A random fcc Cu–Au supercell at its Vegard lattice constant."""
    cubic, repetitions = BULK_CELLS[rng.integers(len(BULK_CELLS))]
    n_atoms = (4 if cubic else 1) * int(np.prod(repetitions))
    n_au = draw_au_count(n_atoms, rng)
    lattice = vegard_lattice_constant_angstrom(n_au / n_atoms)
    atoms = bulk("Cu", "fcc", a=lattice, cubic=cubic).repeat(repetitions)
    return occupy(atoms, n_au, rng)


def random_strain_tensor(rng: np.random.Generator) -> np.ndarray:
    """A symmetric strain, hydrostatic, pure shear or general, components within ±4 %.

    Returns
    -------
    np.ndarray
        [3, 3] dimensionless strain ε; the strained cell is ``cell @ (1 + ε)``.
    """
    mode = rng.choice(("hydrostatic", "shear", "general"))
    if mode == "hydrostatic":
        return rng.uniform(-MAX_STRAIN, MAX_STRAIN) * np.eye(3)
    upper = np.triu(rng.uniform(-MAX_STRAIN, MAX_STRAIN, size=(3, 3)))
    strain = upper + np.triu(upper, k=1).T
    if mode == "shear":
        np.fill_diagonal(strain, 0.0)
    return strain


def build_strained(rng: np.random.Generator) -> ase.Atoms:
    """A random bulk supercell under a `random_strain_tensor`, atoms moved with the cell."""
    atoms = build_bulk(rng)
    deformation = np.eye(3) + random_strain_tensor(rng)
    atoms.set_cell(atoms.cell.array @ deformation, scale_atoms=True)
    return atoms


def build_vacancy(rng: np.random.Generator) -> ase.Atoms:
    """A random bulk supercell with one or two random atoms removed."""
    atoms = build_bulk(rng)
    removed = rng.choice(len(atoms), size=int(rng.integers(1, 3)), replace=False)
    del atoms[sorted(removed.tolist())]
    return atoms


def build_surface(rng: np.random.Generator) -> ase.Atoms:
    """A random fcc(111) or fcc(100) alloy slab in a cell with vacuum, periodic in 3-D."""
    builder, size = SLABS[rng.integers(len(SLABS))]
    n_atoms = int(np.prod(size))
    n_au = draw_au_count(n_atoms, rng)
    lattice = vegard_lattice_constant_angstrom(n_au / n_atoms)
    atoms = builder("Cu", size=size, a=lattice, vacuum=SLAB_VACUUM_ANGSTROM, orthogonal=True)
    atoms.pbc = True
    return occupy(atoms, n_au, rng)


BUILDERS: dict[str, Callable[[np.random.Generator], ase.Atoms]] = {
    "bulk": build_bulk,
    "strained": build_strained,
    "vacancy": build_vacancy,
    "surface": build_surface,
}
"""The structure builder of each config type."""


def labelled_snapshot(atoms: ase.Atoms, config_type: str, temperature_kelvin: float) -> ase.Atoms:
    """A copy of ``atoms`` with its EMT energy, forces and stress in a SinglePointCalculator.

    The forces are the calculator's, without the centre-of-mass constraint of the MD run.
    """
    snapshot = ase.Atoms(numbers=atoms.numbers, positions=atoms.positions,
                         cell=atoms.cell.array, pbc=True)
    snapshot.calc = SinglePointCalculator(
        snapshot,
        energy=atoms.get_potential_energy(),
        forces=atoms.get_forces(apply_constraint=False),
        stress=atoms.get_stress(),
    )
    snapshot.info[CONFIG_TYPE_KEY] = config_type
    snapshot.info[TEMPERATURE_KEY] = temperature_kelvin
    return snapshot


def md_snapshots(
    atoms: ase.Atoms,
    config_type: str,
    temperature_kelvin: float,
    options: SamplingOptions,
    rng: np.random.Generator,
) -> Iterator[ase.Atoms]:
    """Labelled snapshots of a Langevin NVT run of ``atoms`` with EMT, after equilibration."""
    atoms.calc = EMT()
    atoms.set_constraint(FixCom())
    thermalize_momenta(atoms, temperature_K=temperature_kelvin, rng=rng)
    Stationary(atoms)
    dynamics = Langevin(atoms, options.timestep_fs * units.fs, temperature_K=temperature_kelvin,
                        friction=options.friction_per_fs / units.fs, fixcm=False, rng=rng)
    dynamics.run(options.equilibration_steps)
    for _ in range(options.snapshots_per_run):
        dynamics.run(options.interval_steps)
        yield labelled_snapshot(atoms, config_type, temperature_kelvin)


def max_force_ev_per_angstrom(atoms: ase.Atoms) -> float:
    """Largest atomic force magnitude of ``atoms`` [eV/Å]."""
    return float(np.linalg.norm(atoms.get_forces(), axis=1).max())


@dataclass
class GenerationLog:
    """Counts gathered while generating: rejected snapshots and MD runs."""

    rejected: int = 0
    runs: int = 0


def generate_frames(
    config_type: str,
    n_frames: int,
    options: SamplingOptions,
    rng: np.random.Generator,
    log: GenerationLog,
    progress: tqdm,
) -> list[Frame]:
    """``n_frames`` frames of ``config_type``, each from a new MD run every few snapshots.

    A snapshot whose largest force exceeds `MAX_FORCE_EV_PER_ANGSTROM` is rejected and its
    run abandoned, since it has left the physical regime.
    """
    frames: list[Frame] = []
    while len(frames) < n_frames:
        if log.rejected > max(100, n_frames):
            raise RuntimeError(f"{log.rejected} snapshots rejected; is the sampling sane?")
        temperature_kelvin = float(rng.choice(TEMPERATURES_KELVIN))
        atoms = BUILDERS[config_type](rng)
        log.runs += 1
        for snapshot in md_snapshots(atoms, config_type, temperature_kelvin, options, rng):
            if max_force_ev_per_angstrom(snapshot) > MAX_FORCE_EV_PER_ANGSTROM:
                log.rejected += 1
                break
            frames.append(frame_from_atoms(snapshot))
            progress.update()
            if len(frames) == n_frames:
                break
    return frames


def summary_row(name: str, frames: list[Frame]) -> str:
    """One line of the summary table of ``frames``."""
    counts = np.array([frame.n_atoms for frame in frames])
    per_atom_ev = np.array([frame.energy_ev / frame.n_atoms for frame in frames])
    max_force = max(np.linalg.norm(frame.forces_ev_per_angstrom, axis=1).max()
                    for frame in frames)
    stress = np.array([np.asarray(frame.stress_ev_per_angstrom3) for frame in frames])
    return (f"{name:<10} {len(frames):>6} {counts.min():>5}-{counts.max():<3} "
            f"{per_atom_ev.min():>8.4f} .. {per_atom_ev.max():<8.4f} {max_force:>13.3f} "
            f"{stress.min():>9.5f} .. {stress.max():.5f}")


def print_summary(frames_by_type: dict[str, list[Frame]]) -> None:
    """Frames, atom counts, energy per atom, max |F| and stress range, per config type."""
    print(f"{'config':<10} {'frames':>6} {'atoms':>9} {'E/atom [eV]':^20} "
          f"{'max|F| [eV/Å]':>13}   {'stress [eV/Å³]'}")
    for config_type, frames in frames_by_type.items():
        if frames:
            print(summary_row(config_type, frames))
    everything = [frame for frames in frames_by_type.values() for frame in frames]
    print(summary_row("all", everything))
    numbers = np.concatenate([frame.atomic_numbers for frame in everything])
    au_fractions = [np.mean(frame.atomic_numbers == 79) for frame in everything]
    temperatures = np.array([frame.temperature_kelvin for frame in everything])
    print(f"atoms: {len(numbers)} in total, Cu {np.sum(numbers == 29)}, Au {np.sum(numbers == 79)}"
          f"; Au fraction per frame {min(au_fractions):.3f} .. {max(au_fractions):.3f}")
    values, counts = np.unique(temperatures, return_counts=True)
    print("frames per temperature [K]: "
          + ", ".join(f"{value:.0f}: {count}" for value, count in zip(values, counts, strict=True)))


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="HDF5 file to write")
    parser.add_argument("--frames", type=int, default=1000, help="number of frames")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    defaults = SamplingOptions()
    parser.add_argument("--equilibration-steps", type=int,
                        default=defaults.equilibration_steps,
                        help="MD steps discarded at the start of each run")
    parser.add_argument("--interval-steps", type=int, default=defaults.interval_steps,
                        help="MD steps between snapshots")
    arguments = parser.parse_args(argv)
    if arguments.frames < 1:
        parser.error("--frames must be positive")
    return arguments


def main(argv: list[str] | None = None) -> int:
    """Generate the dataset described by the command line ``argv``; return the exit code."""
    arguments = parse_arguments(argv)
    options = SamplingOptions(equilibration_steps=arguments.equilibration_steps,
                              interval_steps=arguments.interval_steps)
    rng = np.random.default_rng(arguments.seed)
    log = GenerationLog()
    frames_by_type: dict[str, list[Frame]] = {}
    start = time.perf_counter()
    with TrajectoryWriter(arguments.output, overwrite=arguments.overwrite) as writer, \
            tqdm(total=arguments.frames, unit="frame") as progress:
        for config_type, n_frames in frame_counts(arguments.frames).items():
            progress.set_description(config_type)
            frames = generate_frames(config_type, n_frames, options, rng, log, progress)
            if frames:
                writer.add_trajectory(config_type, frames)
            frames_by_type[config_type] = frames
    seconds = time.perf_counter() - start
    print(f"wrote {arguments.frames} frames from {log.runs} MD runs to {arguments.output} in "
          f"{seconds:.1f} s; rejected {log.rejected} snapshots with max |F| > "
          f"{MAX_FORCE_EV_PER_ANGSTROM:g} eV/Å")
    print_summary(frames_by_type)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
