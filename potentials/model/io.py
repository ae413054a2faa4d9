"""Model files: config, statistics, weights and metadata in one file, loaded without pickle.

A model file is a ``torch.save`` of a dictionary holding only strings, numbers, lists, dicts and
tensors, read back with ``torch.load(weights_only=True)``: loading never executes code from
the file. Layout (``format_version`` 1)::

    format             "potentials-model"
    format_version     1
    package_version    version of potentials that wrote it
    config             ModelConfig.to_dict()
    statistics         DataStatistics.to_dict() (elements, E0s in eV, neighbour count, scale/shift)
    units              {"energy": "eV", "length": "Å", "forces": "eV/Å", "stress": "eV/Å³"}
    dtype              "float32" | "float64", the dtype the weights were trained in
    training_data_sha256  hash of the training data files ("" if unknown)
    metadata           free-form strings (training command, date, ...)
    state_dict         parameter and buffer tensors
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from potentials.atomic_write import torch_save_atomically
from potentials.device import DTYPES
from potentials.model.config import ModelConfig
from potentials.model.network import EquivariantPotential
from potentials.model.statistics import DataStatistics

FORMAT_NAME = "potentials-model"
FORMAT_VERSION = 1
UNITS = {"energy": "eV", "length": "Å", "forces": "eV/Å", "stress": "eV/Å³"}
REQUIRED_KEYS = ("format", "format_version", "config", "statistics", "state_dict", "dtype")


class ModelFileError(ValueError):
    """A model file that cannot be loaded; the message names the file and the problem."""


def save_model(
    model: EquivariantPotential,
    path: str | os.PathLike,
    training_data_sha256: str = "",
    metadata: dict[str, str] | None = None,
) -> None:
    """Write ``model`` to ``path`` atomically (a temporary file renamed into place)."""
    from potentials import __version__

    dtype = next(model.parameters()).dtype
    content = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "config": model.config.to_dict(),
        "statistics": model.statistics.to_dict(),
        "units": dict(UNITS),
        "dtype": str(dtype).removeprefix("torch."),
        "training_data_sha256": training_data_sha256,
        "metadata": dict(metadata or {}),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    torch_save_atomically(content, path)


def read_model_file(path: str | os.PathLike) -> dict:
    """The validated dictionary stored in a model file (no code is executed)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ModelFileError(
            f"{path}: refused to load, the file holds objects other than tensors and plain "
            f"data ({str(error).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise ModelFileError(f"{path}: not a readable model file ({error})") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a {FORMAT_NAME} file")
    missing = [key for key in REQUIRED_KEYS if key not in content]
    if missing:
        raise ModelFileError(f"{path}: missing keys {missing}")
    if content["format_version"] > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: format version {content['format_version']} is newer than this "
            f"package reads ({FORMAT_VERSION}); upgrade potentials"
        )
    if not isinstance(content["dtype"], str) or content["dtype"] not in DTYPES:
        raise ModelFileError(f"{path}: dtype {content['dtype']!r} is not one of "
                             f"{sorted(DTYPES)}")
    return content


def load_model(
    path: str | os.PathLike, dtype: torch.dtype | None = None, device: str | torch.device = "cpu"
) -> EquivariantPotential:
    """Rebuild the model stored at ``path``, in ``dtype`` (default: as saved) on ``device``."""
    content = read_model_file(path)
    try:
        config = ModelConfig.from_dict(content["config"])
        statistics = DataStatistics.from_dict(content["statistics"])
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: invalid config or statistics ({error})") from None
    saved_dtype = DTYPES[content["dtype"]]
    with torch.device("cpu"):
        model = EquivariantPotential(config, statistics).to(saved_dtype)
    result = model.load_state_dict(content["state_dict"], strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ModelFileError(
            f"{path}: weights do not match the config (missing {result.missing_keys}, "
            f"unexpected {result.unexpected_keys})"
        )
    model.metadata = dict(content.get("metadata", {}))
    return model.to(device=device, dtype=dtype or saved_dtype).eval()
