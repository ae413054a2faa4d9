"""Structure plus calculator for the ``md`` and ``relax`` commands."""

from __future__ import annotations

import ase
import ase.io
import torch

from potentials.calculator import EquiCalculator
from potentials.model.predict import check_species
from potentials.model.registry import resolve_model_path, shipped_structure


def load_structure_and_calculator(model: str, structure: str | None, device: str,
                                  dtype: str, compile: bool = False) -> ase.Atoms:
    """Read ``structure`` (default: the one shipped with the model) and attach the model
    (compiled on its first call if ``compile``); a ValueError names elements the model does
    not know before anything runs."""
    path = structure if structure is not None else shipped_structure(resolve_model_path(model))
    atoms = ase.io.read(path)
    calculator = EquiCalculator(model, device=device, dtype=dtype, compile=compile)
    check_species(calculator.model, torch.as_tensor(atoms.numbers, device=calculator.device))
    atoms.calc = calculator
    return atoms
