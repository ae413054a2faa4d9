"""`Frame`: one structure and its labels as plain numpy arrays, the unit of reading and writing.

A frame is what one row of an HDF5 trajectory holds (see ``docs/hdf5-format.md``). Every
importer produces frames and every writer consumes them, so the checks of
:func:`validate_frame` run once, in one place, whatever the input format was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from potentials.data.errors import DataFormatError
from potentials.graph.atomic_graph import stress_to_matrix

MAX_ATOMIC_NUMBER: int = 118
"""Largest atomic number of a known element (oganesson)."""
LABEL_ATTRIBUTES: dict[str, str] = {
    "energy": "energy_ev",
    "forces": "forces_ev_per_angstrom",
    "stress": "stress_ev_per_angstrom3",
}
"""The `Frame` attribute holding each label."""


@dataclass(frozen=True)
class Frame:
    """One structure with optional labels and metadata; ``None`` marks a missing value.

    Attributes
    ----------
    atomic_numbers
        [n_atoms] int, each in 1..118.
    positions_angstrom
        [n_atoms, 3] float64 Cartesian positions in Å.
    cell_angstrom
        [3, 3] float64 lattice vectors as rows in Å (zeros for a molecule).
    pbc
        [3] bool periodicity of each lattice direction.
    energy_ev
        Total energy in eV.
    forces_ev_per_angstrom
        [n_atoms, 3] float64 forces in eV/Å.
    stress_ev_per_angstrom3
        [3, 3] float64 stress in eV/Å³, ASE sign convention (positive under tension).
    velocities_angstrom_per_fs
        [n_atoms, 3] float64 velocities in Å/fs (an MD frame's, to continue the run from).
    config_type, temperature_kelvin, source_file
        Optional metadata: a free label, a temperature in K and the file the frame came from.
    weight
        Dimensionless factor (finite, >= 0) on this frame's terms in the training loss; 0
        removes the frame from the loss.
    """

    atomic_numbers: np.ndarray
    positions_angstrom: np.ndarray
    cell_angstrom: np.ndarray
    pbc: np.ndarray
    energy_ev: float | None = None
    forces_ev_per_angstrom: np.ndarray | None = None
    stress_ev_per_angstrom3: np.ndarray | None = None
    velocities_angstrom_per_fs: np.ndarray | None = None
    config_type: str | None = None
    temperature_kelvin: float | None = None
    source_file: str | None = None
    weight: float = 1.0

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return int(len(self.atomic_numbers))


def _as_float_array(
    value: object, shape: tuple[int, ...], name: str, path: str, index: int
) -> np.ndarray:
    """``value`` as a finite float64 array of exactly ``shape``, else `DataFormatError`."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataFormatError(path, f"not numeric ({error})", index, name) from None
    if array.shape != shape:
        raise DataFormatError(path, f"shape {array.shape}, expected {shape}", index, name)
    if not np.all(np.isfinite(array)):
        raise DataFormatError(path, "contains NaN or infinite values", index, name)
    return array


def _as_scalar(value: object, name: str, path: str, index: int) -> float:
    """``value`` as a finite float, else `DataFormatError` on field ``name``."""
    return float(_as_float_array(value, (), name, path, index))


def _as_weight(value: object, path: str, index: int) -> float:
    """``value`` as a finite, non-negative float, else `DataFormatError` on field 'weight'."""
    weight = _as_scalar(value, "weight", path, index)
    if weight < 0:
        raise DataFormatError(path, f"negative loss weight {weight}", index, "weight")
    return weight


def _as_atomic_numbers(value: object, path: str, index: int) -> np.ndarray:
    """``value`` as a non-empty int64 array of known elements, else `DataFormatError`."""
    numbers = np.asarray(value)
    if numbers.ndim != 1 or len(numbers) == 0:
        raise DataFormatError(path, f"shape {numbers.shape}, expected (n_atoms>0,)", index,
                              "atomic_numbers")
    if not np.issubdtype(numbers.dtype, np.integer):
        raise DataFormatError(path, f"dtype {numbers.dtype} is not integer", index,
                              "atomic_numbers")
    unknown = numbers[(numbers < 1) | (numbers > MAX_ATOMIC_NUMBER)]
    if len(unknown):
        raise DataFormatError(path, f"unknown element with atomic number {int(unknown[0])}",
                              index, "atomic_numbers")
    return numbers.astype(np.int64)


def _as_stress_matrix(value: object, path: str, index: int) -> np.ndarray:
    """A [3, 3] or Voigt [6] stress as a finite [3, 3] float64 array."""
    expected = (6,) if np.shape(value) == (6,) else (3, 3)
    return stress_to_matrix(_as_float_array(value, expected, "stress", path, index))


def validate_frame(frame: Frame, path: str | os.PathLike[str], index: int) -> Frame:
    """Check shapes, finiteness and elements of ``frame``; return it with canonical dtypes.

    Parameters
    ----------
    frame
        The frame to check.
    path, index
        File and frame index named in the error message.

    Returns
    -------
    Frame
        With int64 atomic numbers, float64 arrays, bool pbc and a [3, 3] stress (a Voigt
        stress [xx, yy, zz, yz, xz, xy] is expanded).

    Raises
    ------
    DataFormatError
        On a wrong shape, a NaN or infinity, an unknown element, an empty frame or a
        negative weight.
    """
    path = os.fspath(path)
    numbers = _as_atomic_numbers(frame.atomic_numbers, path, index)
    n_atoms = len(numbers)
    pbc = np.asarray(frame.pbc)
    if pbc.shape != (3,):
        raise DataFormatError(path, f"shape {pbc.shape}, expected (3,)", index, "pbc")

    energy, forces = frame.energy_ev, frame.forces_ev_per_angstrom  # labels may be None
    stress, temperature = frame.stress_ev_per_angstrom3, frame.temperature_kelvin
    velocities = frame.velocities_angstrom_per_fs
    return Frame(
        atomic_numbers=numbers,
        positions_angstrom=_as_float_array(
            frame.positions_angstrom, (n_atoms, 3), "positions", path, index
        ),
        cell_angstrom=_as_float_array(frame.cell_angstrom, (3, 3), "cell", path, index),
        pbc=pbc.astype(bool),
        energy_ev=None if energy is None else _as_scalar(energy, "energy", path, index),
        forces_ev_per_angstrom=None if forces is None else _as_float_array(
            forces, (n_atoms, 3), "forces", path, index),
        stress_ev_per_angstrom3=None if stress is None else _as_stress_matrix(
            stress, path, index),
        velocities_angstrom_per_fs=None if velocities is None else _as_float_array(
            velocities, (n_atoms, 3), "velocities", path, index),
        config_type=None if frame.config_type is None else str(frame.config_type),
        temperature_kelvin=None if temperature is None else _as_scalar(
            temperature, "temperature", path, index),
        source_file=None if frame.source_file is None else str(frame.source_file),
        weight=_as_weight(frame.weight, path, index),
    )
