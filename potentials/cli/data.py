"""``potentials convert`` and ``potentials info``."""

from __future__ import annotations

import argparse

from potentials.cli.options import add_label_keys, read_options


def _add_convert(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="convert structures to or from HDF5 trajectories",
        description="Convert files ASE reads, H5MD files and HDF5 trajectories into one "
        "output: an HDF5 trajectory (.h5/.hdf5) or any format ase.io.write writes.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, in order")
    parser.add_argument("-o", "--output", required=True, help="output file (.h5 or ASE)")
    add_label_keys(parser)
    parser.add_argument("--species", help="elements of H5MD inputs without species: "
                        "formula (C2H6O), comma list (C,C,H,...) or structure file")
    parser.add_argument("--trajectory-name", action="append", dest="trajectory_names",
                        metavar="NAME", help="trajectory name for each input (repeat once "
                        "per input; default: the input's stem)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.set_defaults(func=_run_convert)


def _run_convert(args: argparse.Namespace) -> int:
    from potentials.data.convert import convert

    options = read_options(args, args.species)
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

    from potentials.data.convert import HDF5_SUFFIXES, input_kind
    from potentials.data.summary import format_summary, summarise
    from potentials.model.summary import describe_model

    path = Path(args.file)
    # a missing .h5 is named as a missing file; anything else not a file is a model name
    named_file = path.is_file() or path.suffix.lower() in HDF5_SUFFIXES
    kind = input_kind(path) if named_file else "model"
    if kind == "h5md":
        raise ValueError(f"{path}: an H5MD file; info reads the HDF5 trajectories "
                         f"potentials writes: potentials convert {path} -o "
                         f"{path.stem}-converted.h5, then info on that")
    if kind == "potentials":
        print(format_summary(summarise(path)))
    else:  # not HDF5: a model file, or refused as not one
        print(describe_model(args.file))
    return 0
