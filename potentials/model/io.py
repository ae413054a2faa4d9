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

A committee file (:class:`~potentials.model.committee.CommitteePotential`, written by
:func:`save_committee`) holds ``format`` "potentials-committee", ``format_version``,
``package_version``, ``metadata`` and ``members``: the dictionaries of two or more model
files as above, unchanged.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from potentials.atomic_write import torch_save_atomically
from potentials.device import DTYPES
from potentials.model.committee import CommitteePotential
from potentials.model.config import ModelConfig
from potentials.model.network import EquivariantPotential
from potentials.model.statistics import DataStatistics

FORMAT_NAME = "potentials-model"
COMMITTEE_FORMAT_NAME = "potentials-committee"
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
    """The validated dictionary stored in a model or committee file (no code is executed)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a model file (model files are the zip archives "
                             f"`potentials train` and `potentials committee` write)")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ModelFileError(
            f"{path}: refused to load, the file holds objects other than tensors and plain "
            f"data ({str(error).splitlines()[0]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise ModelFileError(f"{path}: not a readable model file ({error})") from None
    if isinstance(content, dict) and content.get("format") == COMMITTEE_FORMAT_NAME:
        _check_version(content, str(path))
        members = content.get("members")
        if not isinstance(members, list) or len(members) < 2:
            raise ModelFileError(f"{path}: a committee file needs a list of at least 2 members")
        for index, member in enumerate(members):
            _check_model_content(member, f"{path} (member {index})")
        return content
    _check_model_content(content, str(path))
    return content


def _check_version(content: dict, where: str) -> None:
    if "format_version" not in content:
        raise ModelFileError(f"{where}: missing keys ['format_version']")
    if content["format_version"] > FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: format version {content['format_version']} is newer than this "
            f"package reads ({FORMAT_VERSION}); upgrade potentials"
        )


def _check_model_content(content: object, where: str) -> None:
    """Raise a ModelFileError unless ``content`` is a complete single-model dictionary."""
    if not isinstance(content, dict) or content.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{where}: not a {FORMAT_NAME} file")
    missing = [key for key in REQUIRED_KEYS if key not in content]
    if missing:
        raise ModelFileError(f"{where}: missing keys {missing}")
    _check_version(content, where)
    if not isinstance(content["dtype"], str) or content["dtype"] not in DTYPES:
        raise ModelFileError(f"{where}: dtype {content['dtype']!r} is not one of "
                             f"{sorted(DTYPES)}")


def load_model(
    path: str | os.PathLike, dtype: torch.dtype | None = None, device: str | torch.device = "cpu"
) -> EquivariantPotential | CommitteePotential:
    """Rebuild the model or committee stored at ``path``, in ``dtype`` (default: as saved,
    for a committee as its first member was saved) on ``device``."""
    content = read_model_file(path)
    if content["format"] == COMMITTEE_FORMAT_NAME:
        members = [_build_model(member, f"{path} (member {index})")
                   for index, member in enumerate(content["members"])]
        try:
            model = CommitteePotential(members)
        except ValueError as error:
            raise ModelFileError(f"{path}: {error}") from None
        saved_dtype = DTYPES[content["members"][0]["dtype"]]
    else:
        model = _build_model(content, str(path))
        saved_dtype = DTYPES[content["dtype"]]
    model.metadata = dict(content.get("metadata", {}))
    return model.to(device=device, dtype=dtype or saved_dtype).eval()


def _build_model(content: dict, where: str) -> EquivariantPotential:
    """The network of one validated single-model dictionary, in its saved dtype on the CPU."""
    try:
        config = ModelConfig.from_dict(content["config"])
        statistics = DataStatistics.from_dict(content["statistics"])
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{where}: invalid config or statistics ({error})") from None
    with torch.device("cpu"):
        model = EquivariantPotential(config, statistics).to(DTYPES[content["dtype"]])
    result = model.load_state_dict(content["state_dict"], strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ModelFileError(
            f"{where}: weights do not match the config (missing {result.missing_keys}, "
            f"unexpected {result.unexpected_keys})"
        )
    model.metadata = dict(content.get("metadata", {}))
    return model


def save_committee(member_paths: list[str | os.PathLike], path: str | os.PathLike,
                   metadata: dict[str, str] | None = None) -> CommitteePotential:
    """Write a committee of the model files ``member_paths`` to ``path``; return it, loaded.

    The members' files are stored unchanged inside the committee file. Raises a
    ModelFileError if a member is itself a committee or the members do not share their
    elements.
    """
    from potentials import __version__

    members = []
    for member_path in member_paths:
        content = read_model_file(member_path)
        if content["format"] == COMMITTEE_FORMAT_NAME:
            raise ModelFileError(f"{member_path}: a committee cannot be a member; pass the "
                                 f"files of its members")
        members.append(content)
    try:
        committee = CommitteePotential([_build_model(content, str(member_path))
                                        for content, member_path in zip(members, member_paths,
                                                                        strict=True)])
    except ValueError as error:
        raise ModelFileError(str(error)) from None
    torch_save_atomically({
        "format": COMMITTEE_FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "metadata": dict(metadata or {}),
        "members": members,
    }, path)
    return committee
