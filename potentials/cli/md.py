"""``potentials md`` and ``potentials relax``."""

from __future__ import annotations

import argparse
import math
import re
import time
from pathlib import Path

from potentials.cli.options import (
    MODEL_HELP,
    POSITIVE_INT,
    STRUCTURE_HELP,
    add_compile_option,
    add_dtype_and_device_options,
    add_repeat_option,
    number_type,
)

RELAX_NOT_CONVERGED = 3
"""Exit status of ``potentials relax`` when the force criterion is not met in ``--steps``."""


def _add_md(subparsers: argparse._SubParsersAction) -> None:
    from potentials.md.options import ENSEMBLES, MDOptions

    defaults = MDOptions()
    parser = subparsers.add_parser(
        "md", help="molecular dynamics with a trained model",
        description="Run MD with a trained model. With no arguments: Langevin MD of "
        "acetylacetone at 300 K with the shipped acac model.")
    parser.add_argument("--model", default="acac", help=MODEL_HELP)
    parser.add_argument("--structure", help=STRUCTURE_HELP + " (default: the shipped "
                        "structure of a shipped model, e.g. acetylacetone for acac)")
    add_repeat_option(parser)
    parser.add_argument("--ensemble", default=defaults.ensemble, choices=ENSEMBLES,
                        help="nve (velocity Verlet), nvt (Langevin) or npt (MTK Nosé-Hoover, "
                        "flexible cell; 3-D periodic structures) (default %(default)s)")
    parser.add_argument("--temperature", type=number_type(float, 0, " K", inclusive=True),
                        default=defaults.temperature_kelvin,
                        help="temperature in K (default %(default)s)")
    parser.add_argument("--pressure", type=number_type(float, -math.inf, " GPa"),
                        default=defaults.pressure_gpa,
                        help="pressure in GPa for npt (default %(default)s)")
    parser.add_argument("--timestep", type=number_type(float, 0, " fs"),
                        default=defaults.timestep_fs, help="time step in fs (default "
                        "%(default)s)")
    parser.add_argument("--steps", type=POSITIVE_INT, default=defaults.steps,
                        help="number of MD steps (default %(default)s)")
    parser.add_argument("--friction", type=number_type(float, 0, " /fs"),
                        default=defaults.friction_per_fs,
                        help="Langevin friction in 1/fs for nvt (default %(default)s)")
    parser.add_argument("--thermostat-time", type=number_type(float, 0, " fs"),
                        default=defaults.thermostat_fs, help="Nosé-Hoover thermostat "
                        "relaxation time in fs for npt (default %(default)s)")
    parser.add_argument("--barostat-time", type=number_type(float, 0, " fs"),
                        default=defaults.barostat_fs, help="barostat relaxation time in fs "
                        "for npt (default %(default)s)")
    parser.add_argument("--write-every", type=POSITIVE_INT, default=defaults.write_every,
                        help="write one frame every this many steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="seed of the initial velocities and the Langevin noise "
                        "(default %(default)s)")
    parser.add_argument("--stop-above-uncertainty", type=number_type(float, 0, " meV/Å"),
                        metavar="MEV_PER_ANGSTROM", help="committee models: stop at the first "
                        "state whose largest per-atom force disagreement σF exceeds this, in "
                        "meV/Å (the structure is unlike the training data), writing it last")
    parser.add_argument("--velocities", choices=("maxwell", "structure"), default="maxwell",
                        help="maxwell: draw them at --temperature (no net momentum or "
                        "rotation); structure: keep those stored with the structure, to "
                        "continue a run md wrote (default %(default)s)")
    _add_md_outputs(parser)
    add_dtype_and_device_options(parser)
    add_compile_option(parser)
    parser.set_defaults(func=_run_md)


def _add_md_outputs(parser: argparse.ArgumentParser) -> None:
    """Where md writes its trajectory and plot, and what it prints."""
    parser.add_argument("--output", help="trajectory: .h5 (HDF5, trainable) or any ASE "
                        "format (default: md-MODEL-TIMESTAMP.h5)")
    parser.add_argument("--plot", metavar="FILE.png", help="plot of temperature, energies, "
                        "committee force spread and cell volume against time (default: the "
                        "trajectory's name with .png)")
    parser.add_argument("--no-plot", action="store_true", help="write no plot")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing trajectory and plot")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar, only the header and the summary (for logs)")


def _md_output_paths(args: argparse.Namespace) -> tuple[str, Path | None]:
    """The trajectory's path (default ``md-MODEL-TIMESTAMP.h5``) and the plot's (None: no
    plot; an existing one is refused unless ``--overwrite``)."""
    from potentials.data.output import prepare_output

    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^\w.-]+", "-", Path(args.model).stem).strip("-")  # acac[1,5]: acac-1-5
    output = args.output or f"md-{name}-{stamp}.h5"
    plot = None if args.no_plot else Path(args.plot or Path(output).with_suffix(".png"))
    if plot is not None:
        prepare_output(plot, args.overwrite)
    return output, plot


def _run_md(args: argparse.Namespace) -> int:
    from potentials.md.observations import Observations, UnstableDynamicsError
    from potentials.md.options import MDOptions
    from potentials.md.plot import plot_md_run
    from potentials.md.runner import (
        check_ensemble,
        check_stored_velocities,
        initialise_velocities,
        run_md,
    )
    from potentials.md.setup import load_structure_and_calculator
    from potentials.md.trajectory import TrajectoryOutput
    from potentials.units import MEV_PER_EV

    limit = args.stop_above_uncertainty
    options = MDOptions(args.ensemble, args.temperature, args.pressure, args.timestep,
                        args.steps, args.friction, args.thermostat_time, args.barostat_time,
                        args.write_every, args.seed,
                        None if limit is None else limit / MEV_PER_EV)
    atoms = load_structure_and_calculator(args.model, args.structure, args.device, args.dtype,
                                          args.compile, tuple(args.repeat))
    check_ensemble(atoms, options)
    if limit is not None and not atoms.calc.is_committee:
        raise ValueError(f"--stop-above-uncertainty needs a committee model (its members' "
                         f"disagreement σF); {args.model} is a single model")
    output, plot = _md_output_paths(args)
    trajectory_output = TrajectoryOutput(output, overwrite=args.overwrite)  # checks the path
    if args.velocities == "maxwell":
        initialise_velocities(atoms, options)
    else:
        check_stored_velocities(atoms, args.structure or "the shipped structure")
    title = f"{args.ensemble} MD of {atoms.get_chemical_formula()} with {args.model}"
    print(f"{title} ({len(atoms)} atoms): {args.steps} steps of {args.timestep} fs at "
          f"{args.temperature} K -> {output}")

    def draw(observations: Observations, what: str) -> None:
        if plot is not None and observations.totals:
            plot_md_run(observations, options, len(atoms), plot, title)
            print(f"{what}: {plot}")

    try:
        with trajectory_output as trajectory:
            summary = run_md(atoms, options, trajectory, progress=not args.no_progress)
    except UnstableDynamicsError as error:
        draw(error.observations, "plot of the run up to the divergence")
        raise
    print(summary.format(args.ensemble))
    print(f"{summary.frames_written} frames written to {output}")
    draw(summary.observations, "plot")
    return 0


def _add_relax(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "relax", help="relax a structure (and its cell)",
        description="Relax atomic positions (and with --cell the cell) until every force is "
        f"below --fmax. Exit status {RELAX_NOT_CONVERGED} if that is not reached within "
        "--steps; the last structure is written all the same.")
    parser.add_argument("--model", default="acac", help=MODEL_HELP)
    parser.add_argument("--structure", help=STRUCTURE_HELP + " (default: the model's "
                        "shipped structure)")
    add_repeat_option(parser)
    parser.add_argument("--fmax", type=number_type(float, 0, " eV/Å"), default=0.01,
                        help="force criterion in eV/Å (default %(default)s)")
    parser.add_argument("--optimizer", default="bfgs", choices=["bfgs", "fire"])
    parser.add_argument("--cell", action="store_true", help="relax the cell too "
                        "(FrechetCellFilter)")
    parser.add_argument("--pressure", type=number_type(float, -math.inf, " GPa"), default=0.0,
                        help="external pressure in GPa on the cell, with --cell (default "
                        "%(default)s)")
    parser.add_argument("--steps", type=POSITIVE_INT, default=1000,
                        help="maximum steps (default %(default)s)")
    parser.add_argument("--output", help="relaxed structure file (default: relaxed.xyz)",
                        default="relaxed.xyz")
    parser.add_argument("--trajectory", metavar="FILE.traj", help="also write every step of "
                        "the relaxation to this ASE trajectory (ase gui FILE.traj shows it)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output and trajectory")
    add_dtype_and_device_options(parser)
    add_compile_option(parser)
    parser.set_defaults(func=_run_relax)


def _run_relax(args: argparse.Namespace) -> int:
    import ase.io

    from potentials.data.output import ase_output_format, prepare_output
    from potentials.md.relax import relax
    from potentials.md.setup import load_structure_and_calculator
    from potentials.md.trajectory import labelled_copy

    ase_output_format(args.output, trajectory=False)
    prepare_output(args.output, args.overwrite)
    if args.trajectory is not None:
        if not args.trajectory.endswith(".traj"):
            raise ValueError(f"{args.trajectory}: the relaxation trajectory is written by "
                             f"ASE's optimiser, as .traj only")
        prepare_output(args.trajectory, args.overwrite)
    atoms = load_structure_and_calculator(args.model, args.structure, args.device, args.dtype,
                                          args.compile, tuple(args.repeat))
    summary = relax(atoms, args.fmax, args.optimizer, args.cell, args.steps,
                    trajectory=args.trajectory, pressure_gpa=args.pressure)
    ase.io.write(args.output, labelled_copy(atoms, with_temperature=False))
    print(summary.format())
    print(f"relaxed structure written to {args.output}")
    if args.trajectory is not None:
        print(f"{summary.steps + 1} relaxation steps written to {args.trajectory}")
    return 0 if summary.converged else RELAX_NOT_CONVERGED
