"""``potentials models`` and ``potentials committee``."""

from __future__ import annotations

import argparse


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

    from potentials.data.output import prepare_output
    from potentials.model.io import save_committee
    from potentials.model.registry import (
        cutoff_text,
        resolve_model_path,
        split_member_selection,
    )

    prepare_output(args.output, args.overwrite)
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
