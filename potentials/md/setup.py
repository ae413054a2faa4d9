"""Structure plus calculator for the ``md`` and ``relax`` commands."""

from __future__ import annotations

from pathlib import Path

import ase
import ase.io
import torch
from ase.io.formats import UnknownFileTypeError

from potentials.calculator import EquiCalculator
from potentials.data.convert import input_kind
from potentials.data.reader import TrajectoryFile
from potentials.model.predict import check_species
from potentials.model.registry import resolve_model_path, shipped_structure


def split_frame_index(structure: str) -> tuple[str, int]:
    """``FILE@K`` -> (FILE, K); anything else, including a name with an ``@`` that is not
    followed by an integer, -> (the name, -1): the last frame."""
    path, separator, index = structure.rpartition("@")
    if separator and index.lstrip("-").isdigit():
        return path, int(index)
    return structure, -1


def read_structure(structure: str) -> ase.Atoms:
    """One structure, without labels: ``FILE`` (its last frame) or ``FILE@K`` (frame K,
    counted from 0; negative from the end), FILE an HDF5 trajectory such as ``potentials md``
    writes or any file ASE reads."""
    path, index = split_frame_index(structure)
    kind = input_kind(path)
    if kind == "h5md":
        raise ValueError(f"{path}: an H5MD file; convert it first (potentials convert "
                         f"{path} -o {Path(path).stem}-converted.h5)")
    try:
        if kind == "potentials":
            with TrajectoryFile(path) as trajectory:
                atoms = trajectory[index]
        else:
            atoms = ase.io.read(path, index=index)
    except UnknownFileTypeError:
        raise ValueError(f"{path}: ASE cannot tell the format of this structure file (give "
                         f"it a suffix ASE knows, e.g. .xyz, .cif, .traj, or use an HDF5 "
                         f"trajectory)") from None
    except (IndexError, StopIteration):  # random access, and ASE's frame-by-frame readers
        raise ValueError(f"{path}: there is no frame {index} (frames count from 0; -1 is "
                         f"the last)") from None
    atoms.calc = None  # stored labels are not the model's
    return atoms


def load_structure_and_calculator(model: str, structure: str | None, device: str,
                                  dtype: str, compile: bool = False) -> ase.Atoms:
    """Read ``structure`` (`read_structure`; default: the one shipped with the model) and
    attach the model (compiled on its first call if ``compile``); a ValueError names elements
    the model does not know before anything runs."""
    if structure is None:
        structure = str(shipped_structure(resolve_model_path(model)))
    atoms = read_structure(structure)
    calculator = EquiCalculator(model, device=device, dtype=dtype, compile=compile)
    check_species(calculator.model, torch.as_tensor(atoms.numbers, device=calculator.device))
    atoms.calc = calculator
    return atoms
