"""The ``potentials`` command: a thin argparse dispatcher, one small function per subcommand.

Each module of this package holds the subcommands of one area (data, training, md, models).
To add a subcommand, write ``_add_NAME(subparsers)`` declaring its arguments and setting
``func`` to a ``_run_NAME(args) -> int`` function, and list ``_add_NAME`` in `SUBCOMMANDS`.
Errors in the input (`DataFormatError`, missing or existing files, bad option values) print
one line to stderr and exit with status 1; ``--traceback``, before or after the subcommand,
shows the full traceback instead. Exit statuses: 0 success, 1 error, 2 bad command line
(argparse), 3 relaxation not converged (`RELAX_NOT_CONVERGED`), 130 interrupted, 141 output
pipe closed by its reader (`BROKEN_PIPE`, silently).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from potentials.cli.data import _add_convert, _add_info
from potentials.cli.md import RELAX_NOT_CONVERGED, _add_md, _add_relax
from potentials.cli.models import _add_committee, _add_models
from potentials.cli.training import _add_evaluate, _add_train
from potentials.data.errors import DataFormatError

__all__ = [
    "BROKEN_PIPE", "EXPECTED_ERRORS", "RELAX_NOT_CONVERGED", "SUBCOMMANDS", "build_parser",
    "main",
]

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    DataFormatError, OSError, ValueError, FloatingPointError,
)
"""Exceptions reported as a one-line message rather than a traceback."""
TRACEBACK_HELP = "show full tracebacks on errors"
BROKEN_PIPE = 141
"""Exit status when stdout's reader closes early: 128 + SIGPIPE, as shell tools report it."""


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
    except BrokenPipeError:  # the reader went away (``potentials models | head -2``)
        # Point stdout at /dev/null so that the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except EXPECTED_ERRORS as error:
        if args.traceback:
            raise
        print(f"potentials {args.command}: error: {error} (run with --traceback for details)",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"potentials {args.command}: interrupted", file=sys.stderr)
        return 130
