"""Models shipped with the package, found by name.

In a source checkout they live in ``trained_models/NAME/NAME.model``; a normal (non-editable)
install copies that directory into the package as ``potentials/trained_models`` (see
``[tool.setuptools.package-dir]`` in pyproject.toml), so both layouts are searched. The
checkout's directory is recognised by the ``pyproject.toml`` beside it: a bare
``site-packages/trained_models`` belongs to some other package.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from potentials.text_table import fixed_width_table

if TYPE_CHECKING:
    import torch

MODEL_SUFFIX = ".model"
PACKAGE_DIRECTORY = Path(__file__).resolve().parent.parent
"""The ``potentials`` package directory."""


def shipped_model_directories(package: Path = PACKAGE_DIRECTORY) -> list[Path]:
    """Existing directories that may hold shipped models, installed copy first.

    These are ``package/trained_models`` (installed) and, in a source checkout (a
    ``pyproject.toml`` beside the package), the checkout's ``trained_models``.
    """
    candidates = [package / "trained_models"]
    if (package.parent / "pyproject.toml").is_file():
        candidates.append(package.parent / "trained_models")
    return [path for path in candidates if path.is_dir()]


def shipped_models() -> dict[str, Path]:
    """Name -> file of every shipped model."""
    found: dict[str, Path] = {}
    for directory in shipped_model_directories():
        for path in sorted(directory.glob(f"*/*{MODEL_SUFFIX}")):
            if path.stem == path.parent.name:
                found.setdefault(path.stem, path)
    return found


MEMBER_SELECTION = re.compile(r"(?P<model>.+)\[(?P<numbers>[^\[\]]*)\]")
"""``NAME[k]`` or ``NAME[i,j,...]``: members of the committee ``NAME``."""


def split_member_selection(model: str | os.PathLike) -> tuple[str | os.PathLike,
                                                                tuple[int, ...] | None]:
    """``model`` without its member selection, and the selected member numbers (``None``
    when there is none: a plain name or an existing file, whatever its name)."""
    match = MEMBER_SELECTION.fullmatch(str(model))
    if match is None or Path(model).is_file():
        return model, None
    try:
        numbers = tuple(int(text) for text in match["numbers"].split(","))
    except ValueError:
        raise ValueError(f"model '{model}': members are selected by numbers separated by "
                         f"commas, e.g. {match['model']}[1] or {match['model']}[1,5]") from None
    return match["model"], numbers


def resolve_model_path(model: str | os.PathLike) -> Path:
    """The file holding a shipped model name or a path (for ``NAME[k]``, the committee's
    file); a clear error when it is neither."""
    name = split_member_selection(model)[0]
    path = Path(name)
    if path.is_file():
        return path
    available = shipped_models()
    if str(name) in available:
        return available[str(name)]
    names = ", ".join(sorted(available)) or "none yet"
    raise FileNotFoundError(f"model '{model}' is neither a file nor a shipped model; shipped "
                            f"models: {names}")


def load_named_model(model: str | os.PathLike, dtype: torch.dtype | None = None,
                     device: str | torch.device = "cpu") -> torch.nn.Module:
    """The model, committee or selected committee members named by ``model`` (module
    docstring), in ``dtype`` (default: as saved) on ``device``."""
    from potentials.model.committee import CommitteePotential, select_members
    from potentials.model.io import load_model

    name, numbers = split_member_selection(model)
    path = resolve_model_path(name)
    loaded = load_model(path, dtype=dtype, device=device)
    if numbers is None:
        return loaded
    if not isinstance(loaded, CommitteePotential):
        raise ValueError(f"model '{model}': {path} is a single model, not a committee with "
                         f"members to select")
    try:
        return select_members(loaded, numbers)
    except ValueError as error:
        raise ValueError(f"model '{model}': {error}") from None


STRUCTURE_NAME = "structure.xyz"
"""Each shipped model's directory holds a default structure for ``potentials md``/``relax``."""


def shipped_structure(model_path: Path) -> Path:
    """The default structure shipped beside a model file."""
    path = model_path.parent / STRUCTURE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no default structure beside {model_path}; pass --structure")
    return path


def cutoff_text(model: torch.nn.Module) -> str:
    """A model's cutoff in Å, e.g. "3.5"; for a committee whose members differ, each
    distinct cutoff, e.g. "3.5 / 5"."""
    members = getattr(model, "members", [model])
    return " / ".join(f"{c:g}" for c in sorted({m.cutoff_angstrom for m in members}))


def describe_shipped_models() -> str:
    """A table of shipped models: elements, cutoff, members, parameter count, the precision
    the weights are stored in, file."""
    from ase.data import chemical_symbols

    from potentials.model.committee import CommitteePotential
    from potentials.model.io import load_model

    rows = [("name", "elements", "cutoff [Å]", "members", "parameters", "stored as", "file")]
    for name, path in shipped_models().items():
        model = load_model(path)
        members = len(model.members) if isinstance(model, CommitteePotential) else 1
        elements = " ".join(chemical_symbols[z] for z in model.statistics.atomic_numbers)
        n_parameters = sum(p.numel() for p in model.parameters())
        dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
        rows.append((name, elements, cutoff_text(model), str(members),
                     f"{n_parameters:,}", dtype,
                     str(path)))
    if len(rows) == 1:
        return "no shipped models found (expected trained_models/NAME/NAME.model)"
    return (f"{fixed_width_table(rows)}\nWeights are stored in the precision they were "
            f"trained in; EquiCalculator and the commands evaluate in float64 unless told "
            f"otherwise (dtype, --dtype).\nNAME[k] or NAME[i,j] (e.g. acac[9]) takes only those "
            f"members of a committee: faster, less accurate; each model card lists its members' "
            f"errors.\npotentials info NAME shows each member's architecture and training.")
