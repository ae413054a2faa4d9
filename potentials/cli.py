"""The ``potentials`` command: a thin argparse dispatcher, one small function per subcommand.

To add a subcommand, write ``_add_NAME(subparsers)`` declaring its arguments and setting
``func`` to a ``_run_NAME(args) -> int`` function, and list ``_add_NAME`` in `SUBCOMMANDS`.
Errors in the input (`DataFormatError`, missing or existing files, bad option values) print
one line to stderr and exit with status 1; ``--traceback``, before or after the subcommand,
shows the full traceback instead. Exit statuses: 0 success, 1 error, 2 bad command line
(argparse), 3 relaxation not converged (`RELAX_NOT_CONVERGED`), 130 interrupted.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from potentials.data.errors import DataFormatError

if TYPE_CHECKING:
    from potentials.data.convert import ReadOptions

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    DataFormatError, OSError, ValueError, FloatingPointError,
)
"""Exceptions reported as a one-line message rather than a traceback."""
RELAX_NOT_CONVERGED = 3
"""Exit status of ``potentials relax`` when the force criterion is not met in ``--steps``."""
TRACEBACK_HELP = "show full tracebacks on errors"
MODEL_HELP = ("shipped model name or model file; NAME[k] or NAME[i,j] for only those members "
              "of a committee (faster, less accurate; the model cards list each member's "
              "errors); default %(default)s")


def _number(convert: Callable[[str], float], above: float, unit: str = "",
            inclusive: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: ``convert(text)``, refused (naming the option, the bound and the
    value) unless it is finite and above ``above`` (or equal to it, if ``inclusive``)."""
    bound = "finite" if math.isinf(above) else f"{'>=' if inclusive else '>'} {above:g}{unit}"

    def parse(text: str) -> float:
        value = convert(text)  # a ValueError becomes argparse's "invalid float value"
        if not (math.isfinite(value) and (value >= above if inclusive else value > above)):
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    parse.__name__ = convert.__name__
    return parse


POSITIVE_INT = _number(int, 0)
"""Argparse type of counts: steps, frames, batch sizes."""

STRUCTURE_HELP = ("structure: FILE (its last frame) or FILE@K (frame K from 0, negative from "
                  "the end), any file ASE reads or an HDF5 trajectory such as md writes")


def _add_label_keys(parser: argparse.ArgumentParser) -> None:
    """Options naming where the labels of ASE-readable inputs are stored."""
    parser.add_argument("--energy-key", help="info/calculator key of the energy [eV]; "
                        "when given it must be present in every frame")
    parser.add_argument("--forces-key", help="arrays/calculator key of the forces [eV/Å]")
    parser.add_argument("--stress-key", help="info/calculator key of the stress [eV/Å³]")


def _read_options(args: argparse.Namespace, species: str | None = None) -> ReadOptions:
    """The `ReadOptions` of the label-key options (and ``species``, for H5MD inputs)."""
    from potentials.data.convert import ReadOptions
    from potentials.data.species import parse_species

    return ReadOptions(
        energy_key=args.energy_key, forces_key=args.forces_key, stress_key=args.stress_key,
        species=None if species is None else parse_species(species))


def _add_convert(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="convert structures to or from HDF5 trajectories",
        description="Convert files ASE reads, H5MD files and HDF5 trajectories into one "
        "output: an HDF5 trajectory (.h5/.hdf5) or any format ase.io.write writes.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, in order")
    parser.add_argument("-o", "--output", required=True, help="output file (.h5 or ASE)")
    _add_label_keys(parser)
    parser.add_argument("--species", help="elements of H5MD inputs without species: "
                        "formula (C2H6O), comma list (C,C,H,...) or structure file")
    parser.add_argument("--trajectory-name", action="append", dest="trajectory_names",
                        metavar="NAME", help="trajectory name for each input (repeat once "
                        "per input; default: the input's stem)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(func=_run_convert)


def _run_convert(args: argparse.Namespace) -> int:
    from potentials.data.convert import convert

    options = _read_options(args, args.species)
    count = convert(args.inputs, args.output, options, trajectory_names=args.trajectory_names,
                    overwrite=args.overwrite, progress=True)
    print(f"wrote {count} frames to {args.output}")
    return 0


def _add_info(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info", help="summarise an HDF5 trajectory or a model",
        description="For an HDF5 trajectory: frames, elements, labels and their statistics. "
        "For a model file or shipped model name: who wrote it, its elements and E0s, and "
        "each member's architecture, training and training data.")
    parser.add_argument("file", metavar="FILE", help="HDF5 trajectory (.h5/.hdf5), model "
                        "file or shipped model name")
    parser.set_defaults(func=_run_info)


def _run_info(args: argparse.Namespace) -> int:
    from pathlib import Path

    import h5py

    from potentials.data.summary import format_summary, summarise
    from potentials.model.summary import describe_model

    path = Path(args.file)
    if path.suffix in (".h5", ".hdf5") or (path.is_file() and h5py.is_hdf5(path)):
        print(format_summary(summarise(path)))
    else:
        print(describe_model(args.file))
    return 0


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="fit a potential to HDF5/extxyz reference data",
        description="Train an equivariant potential as described by a YAML config (every "
        "option and its default: docs/training.md). Launch with torchrun for data-parallel "
        "training on several processes or GPUs.")
    parser.add_argument("config", metavar="CONFIG.yaml", help="training configuration")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="overrides", help="override a config key, e.g. optim.lr=0.005")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUTPUT_DIR/checkpoint.pt of a killed run")
    parser.add_argument("--no-progress", action="store_true",
                        help="no per-batch progress bar, only one line per epoch (for the log "
                        "file of a run in the background)")
    parser.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from potentials.train.config import load_config
    from potentials.train.trainer import Trainer

    config = load_config(args.config, args.overrides)
    trainer = Trainer(config, resume=args.resume, show_progress=not args.no_progress)
    try:
        model_path = trainer.run()
    finally:  # a process group left to the interpreter's exit can abort it (SIGABRT)
        trainer.context.close()
    if trainer.context.is_main:
        print(f"model written to {model_path}")
    return 0


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="error metrics of a model on labelled data",
        description="Energy, force and stress MAE/RMSE of a model on each data file (HDF5 or "
        "anything ASE reads), with parity plots.")
    parser.add_argument("data", nargs="+", metavar="DATA", help="labelled data files")
    parser.add_argument("--model", default="acac", help=MODEL_HELP)
    parser.add_argument("--batch-size", type=POSITIVE_INT, default=16,
                        help="frames per evaluation batch (default %(default)s)")
    parser.add_argument("--worst", type=_number(int, 0, inclusive=True), default=0,
                        metavar="N", help="also list the N frames with the largest per-atom "
                        "force error (file, frame from 0, |ΔE| per atom, largest |ΔF|)")
    _add_dtype_and_device_options(parser)
    parser.add_argument("--plots", default=".", metavar="DIR",
                        help="directory for parity plots parity_STEM.png (default: current)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace existing parity plots")
    parser.add_argument("--cache-dir", default="~/.cache/potentials/converted",
                        help="where non-HDF5 inputs are converted to (default %(default)s)")
    _add_label_keys(parser)
    parser.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    from potentials.data.output import refuse_existing
    from potentials.train.evaluate import (
        evaluate_model,
        format_table,
        parity_plot_path,
        save_parity_plots,
        worst_frames_table,
    )

    for path in args.data:
        refuse_existing(parity_plot_path(args.plots, path), args.overwrite)
    evaluations = evaluate_model(args.model, args.data, args.batch_size, args.dtype,
                                 args.device, args.cache_dir, options=_read_options(args))
    print(format_table(evaluations))
    if args.worst:
        print(f"\nthe {args.worst} frames with the largest force errors:")
        print(worst_frames_table(evaluations, args.worst))
    for path in save_parity_plots(evaluations, args.plots):
        print(f"parity plot: {path}")
    return 0


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
    parser.add_argument("--ensemble", default=defaults.ensemble, choices=ENSEMBLES,
                        help="nve (velocity Verlet), nvt (Langevin) or npt (MTK Nosé-Hoover, "
                        "flexible cell; 3-D periodic structures) (default %(default)s)")
    parser.add_argument("--temperature", type=_number(float, 0, " K", inclusive=True),
                        default=defaults.temperature_kelvin,
                        help="temperature in K (default %(default)s)")
    parser.add_argument("--pressure", type=_number(float, -math.inf, " GPa"),
                        default=defaults.pressure_gpa,
                        help="pressure in GPa for npt (default %(default)s)")
    parser.add_argument("--timestep", type=_number(float, 0, " fs"),
                        default=defaults.timestep_fs, help="time step in fs (default "
                        "%(default)s)")
    parser.add_argument("--steps", type=POSITIVE_INT, default=defaults.steps,
                        help="number of MD steps (default %(default)s)")
    parser.add_argument("--friction", type=_number(float, 0, " /fs"),
                        default=defaults.friction_per_fs,
                        help="Langevin friction in 1/fs for nvt (default %(default)s)")
    parser.add_argument("--thermostat-time", type=_number(float, 0, " fs"),
                        default=defaults.thermostat_fs, help="Nosé-Hoover thermostat "
                        "relaxation time in fs for npt (default %(default)s)")
    parser.add_argument("--barostat-time", type=_number(float, 0, " fs"),
                        default=defaults.barostat_fs, help="barostat relaxation time in fs "
                        "for npt (default %(default)s)")
    parser.add_argument("--write-every", type=POSITIVE_INT, default=defaults.write_every,
                        help="write one frame every this many steps (default %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed,
                        help="seed of the initial velocities and the Langevin noise "
                        "(default %(default)s)")
    parser.add_argument("--velocities", choices=("maxwell", "structure"), default="maxwell",
                        help="maxwell: draw them at --temperature (no net momentum or "
                        "rotation); structure: keep those stored with the structure, to "
                        "continue a run md wrote (default %(default)s)")
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
    _add_dtype_and_device_options(parser)
    _add_compile_option(parser)
    parser.set_defaults(func=_run_md)


def _add_dtype_and_device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"],
                        help="precision the model is evaluated in (default %(default)s)")
    parser.add_argument("--device", default="auto",
                        help="auto (a GPU if there is one, else the CPU), cpu, cuda or "
                        "cuda:N (default %(default)s)")


def _add_compile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compile", action="store_true",
                        help="evaluate the model through torch.compile: up to half the time "
                        "per step on a CPU for small molecules, after a first step that "
                        "compiles for minutes (pays for a few thousand steps or more)")


def _run_md(args: argparse.Namespace) -> int:
    import re
    import time
    from pathlib import Path

    from potentials.data.output import refuse_existing
    from potentials.md.options import MDOptions
    from potentials.md.plot import plot_md_run
    from potentials.md.runner import check_stored_velocities, initialise_velocities, run_md
    from potentials.md.setup import load_structure_and_calculator
    from potentials.md.trajectory import TrajectoryOutput

    options = MDOptions(args.ensemble, args.temperature, args.pressure, args.timestep,
                        args.steps, args.friction, args.thermostat_time, args.barostat_time,
                        args.write_every, args.seed)
    atoms = load_structure_and_calculator(args.model, args.structure, args.device, args.dtype,
                                          args.compile)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^\w.-]+", "-", Path(args.model).stem).strip("-")  # acac[1,5]: acac-1-5
    output = args.output or f"md-{name}-{stamp}.h5"
    plot = None if args.no_plot else Path(args.plot or Path(output).with_suffix(".png"))
    if plot is not None:
        refuse_existing(plot, args.overwrite)
    if args.velocities == "maxwell":
        initialise_velocities(atoms, options)
    else:
        check_stored_velocities(atoms, args.structure or "the shipped structure")
    print(f"{args.ensemble} MD of {atoms.get_chemical_formula()} ({len(atoms)} atoms) with "
          f"model {args.model}: {args.steps} steps of {args.timestep} fs at "
          f"{args.temperature} K -> {output}")
    with TrajectoryOutput(output, overwrite=args.overwrite) as trajectory:
        summary = run_md(atoms, options, trajectory, progress=not args.no_progress)
    print(summary.format(args.ensemble))
    print(f"{summary.frames_written} frames written to {output}")
    if plot is not None and summary.observed:
        plot_md_run(summary.observations, options, len(atoms), plot,
                    f"{args.ensemble} MD of {atoms.get_chemical_formula()} with {args.model}")
        print(f"plot: {plot}")
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
    parser.add_argument("--fmax", type=_number(float, 0, " eV/Å"), default=0.01,
                        help="force criterion in eV/Å (default %(default)s)")
    parser.add_argument("--optimizer", default="bfgs", choices=["bfgs", "fire"])
    parser.add_argument("--cell", action="store_true", help="relax the cell too "
                        "(FrechetCellFilter)")
    parser.add_argument("--pressure", type=_number(float, -math.inf, " GPa"), default=0.0,
                        help="external pressure in GPa on the cell, with --cell (default "
                        "%(default)s)")
    parser.add_argument("--steps", type=POSITIVE_INT, default=1000,
                        help="maximum steps (default %(default)s)")
    parser.add_argument("--output", help="relaxed structure file (default: relaxed.xyz)",
                        default="relaxed.xyz")
    parser.add_argument("--overwrite", action="store_true")
    _add_dtype_and_device_options(parser)
    _add_compile_option(parser)
    parser.set_defaults(func=_run_relax)


def _run_relax(args: argparse.Namespace) -> int:
    import ase.io

    from potentials.data.output import ase_output_format, refuse_existing
    from potentials.md.relax import relax
    from potentials.md.setup import load_structure_and_calculator
    from potentials.md.trajectory import labelled_copy

    refuse_existing(args.output, args.overwrite)
    ase_output_format(args.output, trajectory=False)
    atoms = load_structure_and_calculator(args.model, args.structure, args.device, args.dtype,
                                          args.compile)
    summary = relax(atoms, args.fmax, args.optimizer, args.cell, args.steps,
                    pressure_gpa=args.pressure)
    ase.io.write(args.output, labelled_copy(atoms, with_temperature=False))
    print(summary.format())
    print(f"relaxed structure written to {args.output}")
    return 0 if summary.converged else RELAX_NOT_CONVERGED


def _add_models(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the shipped models")
    parser.set_defaults(func=_run_models)


def _run_models(args: argparse.Namespace) -> int:
    from potentials.model.registry import describe_shipped_models

    print(describe_shipped_models())
    return 0


def _add_committee(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "committee", help="combine trained models into one committee model file",
        description="Write one model file whose energies are the mean of those of two or "
        "more trained models of the same elements (for example the same config trained with "
        "different seeds, one run per core; members may differ in depth, width and cutoff). "
        "It is used like any model file.")
    parser.add_argument("members", nargs="+", metavar="MODEL",
                        help="model files or shipped model names (at least 2)")
    parser.add_argument("-o", "--output", required=True, help="committee file to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(func=_run_committee)


def _run_committee(args: argparse.Namespace) -> int:
    from ase.data import chemical_symbols

    from potentials.data.output import refuse_existing
    from potentials.model.io import save_committee
    from potentials.model.registry import (
        cutoff_text,
        resolve_model_path,
        split_member_selection,
    )

    refuse_existing(args.output, args.overwrite)
    for member in args.members:
        if split_member_selection(member)[1] is not None:
            raise ValueError(f"{member}: a committee file is built from whole model files, "
                             f"not from members of another committee (name the members "
                             f"where the model is used instead, e.g. --model NAME[1,5])")
    paths = [resolve_model_path(member) for member in args.members]
    committee = save_committee(paths, args.output, metadata={
        "members": " ".join(str(path) for path in paths)})
    elements = " ".join(chemical_symbols[z] for z in committee.statistics.atomic_numbers)
    print(f"wrote {args.output}: a committee of {len(paths)} models ({elements}, cutoff "
          f"{cutoff_text(committee)} Å)")
    return 0


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_convert, _add_info, _add_train, _add_evaluate, _add_md, _add_relax, _add_models,
    _add_committee,
]
"""Functions that each add one subcommand to the parser."""


def build_parser() -> argparse.ArgumentParser:
    """The ``potentials`` parser with every subcommand of `SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="potentials", description="E(3)-equivariant ML interatomic potentials for ASE")
    parser.add_argument("--traceback", action="store_true", help=TRACEBACK_HELP)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    for subparser in subparsers.choices.values():
        # SUPPRESS: left out after the subcommand, it must not reset a --traceback before it.
        subparser.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                               help=TRACEBACK_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``potentials`` command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EXPECTED_ERRORS as error:
        if args.traceback:
            raise
        print(f"potentials {args.command}: error: {error} (run with --traceback for details)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"potentials {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
