"""Structure plus calculator for the ``md`` and ``relax`` commands."""

from __future__ import annotations

import ase
import ase.io

from potentials.calculator import EquiCalculator
from potentials.model.registry import resolve_model_path, shipped_structure


def load_structure_and_calculator(model: str, structure: str | None, device: str,
                                  dtype: str, compile: bool = False) -> ase.Atoms:
    """Read ``structure`` (default: the one shipped with the model) and attach the model
    (compiled on its first call if ``compile``)."""
    path = structure if structure is not None else shipped_structure(resolve_model_path(model))
    atoms = ase.io.read(path)
    atoms.calc = EquiCalculator(model, device=device, dtype=dtype, compile=compile)
    return atoms
