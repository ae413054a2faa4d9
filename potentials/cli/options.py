"""Options and argparse types shared by several subcommands."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from potentials.data.convert import ReadOptions

MODEL_HELP = ("shipped model name or model file; NAME[k] or NAME[i,j] for only those members "
              "of a committee (faster, less accurate; the model cards list each member's "
              "errors); default %(default)s")


def number_type(convert: Callable[[str], float], above: float, unit: str = "",
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


POSITIVE_INT = number_type(int, 0)
"""Argparse type of counts: steps, frames, batch sizes."""

STRUCTURE_HELP = ("structure: FILE (its last frame) or FILE@K (frame K from 0, negative from "
                  "the end), any file ASE reads or an HDF5 trajectory such as md writes")


def add_label_keys(parser: argparse.ArgumentParser) -> None:
    """Options naming where the labels of ASE-readable inputs are stored."""
    parser.add_argument("--energy-key", help="info/calculator key of the energy [eV]; "
                        "when given it must be present in every frame")
    parser.add_argument("--forces-key", help="arrays/calculator key of the forces [eV/Å]")
    parser.add_argument("--stress-key", help="info/calculator key of the stress [eV/Å³]")


def read_options(args: argparse.Namespace, species: str | None = None) -> ReadOptions:
    """The `ReadOptions` of the label-key options (and ``species``, for H5MD inputs)."""
    from potentials.data.convert import ReadOptions
    from potentials.data.species import parse_species

    return ReadOptions(
        energy_key=args.energy_key, forces_key=args.forces_key, stress_key=args.stress_key,
        species=None if species is None else parse_species(species))


def add_dtype_and_device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"],
                        help="precision the model is evaluated in (default %(default)s)")
    parser.add_argument("--device", default="auto",
                        help="auto (a GPU if there is one, else the CPU), cpu, cuda or "
                        "cuda:N (default %(default)s)")


def add_compile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compile", action="store_true",
                        help="evaluate the model through torch.compile: up to half the time "
                        "per step on a CPU for small molecules, after a first step that "
                        "compiles for minutes (pays for a few thousand steps or more)")


def add_repeat_option(parser: argparse.ArgumentParser) -> None:
    """``--repeat NA NB NC``: a supercell of the structure."""
    parser.add_argument("--repeat", type=POSITIVE_INT, nargs=3, default=(1, 1, 1),
                        metavar=("NA", "NB", "NC"),
                        help="use the structure repeated NA, NB, NC times along its cell "
                        "vectors a, b, c (periodic directions only), e.g. --repeat 2 2 2 for "
                        "a supercell of 8 times the atoms (default 1 1 1)")
