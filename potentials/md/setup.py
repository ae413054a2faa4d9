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


def repeat_cell(atoms: ase.Atoms, repeat: tuple[int, int, int]) -> ase.Atoms:
    """``atoms`` repeated ``repeat[k]`` times along cell vector k (a supercell, with every
    per-atom array, velocities included, copied to the images).

    Raises
    ------
    ValueError
        Naming a cell vector that is repeated but not periodic: its images would overlap or
        float apart, and are no supercell.
    """
    for count, vector, periodic in zip(repeat, "abc", atoms.pbc, strict=True):
        if count > 1 and not periodic:
            raise ValueError(f"cannot repeat the structure {count} times along cell vector "
                             f"{vector}: it is not periodic along it (pbc = "
                             f"{atoms.pbc.tolist()}); repeat periodic directions only")
    return atoms.repeat(repeat)


def load_structure_and_calculator(model: str, structure: str | None, device: str,
                                  dtype: str, compile: bool = False,
                                  repeat: tuple[int, int, int] = (1, 1, 1)) -> ase.Atoms:
    """Read ``structure`` (`read_structure`; default: the one shipped with the model),
    repeat it into a supercell (`repeat_cell`) and attach the model (compiled on its first
    call if ``compile``); a ValueError names elements the model does not know before
    anything runs."""
    if structure is None:
        structure = str(shipped_structure(resolve_model_path(model)))
    atoms = repeat_cell(read_structure(structure), repeat)
    calculator = EquiCalculator(model, device=device, dtype=dtype, compile=compile)
    check_species(calculator.model, torch.as_tensor(atoms.numbers, device=calculator.device))
    atoms.calc = calculator
    return atoms
