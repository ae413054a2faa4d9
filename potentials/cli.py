"""The ``potentials`` command: a thin argparse dispatcher, one small function per subcommand.

To add a subcommand, write ``_add_NAME(subparsers)`` declaring its arguments and setting
``func`` to a ``_run_NAME(args) -> int`` function, and list ``_add_NAME`` in `SUBCOMMANDS`.
Errors in the input (`DataFormatError`, missing or existing files) print one line to stderr
and exit with status 1; the ``--traceback`` flag shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from potentials.data.errors import DataFormatError

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    DataFormatError, OSError, ValueError, FloatingPointError,
)
"""Exceptions reported as a one-line message rather than a traceback."""


def _add_convert(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="convert structures to or from HDF5 trajectories",
        description="Convert files ASE reads, H5MD files and HDF5 trajectories into one "
        "output: an HDF5 trajectory (.h5/.hdf5) or any format ase.io.write writes.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, in order")
    parser.add_argument("-o", "--output", required=True, help="output file (.h5 or ASE)")
    parser.add_argument("--energy-key", help="info/calculator key of the energy [eV]; "
                        "when given it must be present in every frame")
    parser.add_argument("--forces-key", help="arrays/calculator key of the forces [eV/Å]")
    parser.add_argument("--stress-key", help="info/calculator key of the stress [eV/Å³]")
    parser.add_argument("--species", help="elements of H5MD inputs without species: "
                        "formula (C2H6O), comma list (C,C,H,...) or structure file")
    parser.add_argument("--trajectory-name", action="append", dest="trajectory_names",
                        metavar="NAME", help="trajectory name for each input (repeat once "
                        "per input; default: the input's stem)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(func=_run_convert)


def _run_convert(args: argparse.Namespace) -> int:
    from potentials.data.convert import ReadOptions, convert
    from potentials.data.species import parse_species

    options = ReadOptions(
        energy_key=args.energy_key, forces_key=args.forces_key, stress_key=args.stress_key,
        species=None if args.species is None else parse_species(args.species))
    count = convert(args.inputs, args.output, options, trajectory_names=args.trajectory_names,
                    overwrite=args.overwrite, progress=True)
    print(f"wrote {count} frames to {args.output}")
    return 0


def _add_info(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="summarise an HDF5 trajectory file")
    parser.add_argument("file", metavar="FILE.h5", help="HDF5 trajectory file")
    parser.set_defaults(func=_run_info)


def _run_info(args: argparse.Namespace) -> int:
    from potentials.data.summary import format_summary, summarise

    print(format_summary(summarise(args.file)))
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
    parser.set_defaults(func=_run_train)


def _run_train(args: argparse.Namespace) -> int:
    from potentials.train.config import load_config
    from potentials.train.trainer import Trainer

    config = load_config(args.config, args.overrides)
    model_path = Trainer(config, resume=args.resume).run()
    print(f"model written to {model_path}")
    return 0


SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_convert, _add_info, _add_train,
]
"""Functions that each add one subcommand to the parser."""


def build_parser() -> argparse.ArgumentParser:
    """The ``potentials`` parser with every subcommand of `SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="potentials", description="E(3)-equivariant ML interatomic potentials for ASE")
    parser.add_argument("--traceback", action="store_true",
                        help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``potentials`` command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EXPECTED_ERRORS as error:
        if args.traceback:
            raise
        print(f"potentials {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"potentials {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
