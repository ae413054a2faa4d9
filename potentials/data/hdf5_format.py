"""Names, units and schema checks of the HDF5 trajectory format (``docs/hdf5-format.md``).

Layout of version 1, with ``T`` frames and ``A`` atoms summed over all frames of a trajectory::

    /                                   attrs: format, format_version
    /trajectories/<name>/frame_offsets  [T + 1] int64, frame f is atoms offsets[f]:offsets[f+1]
                        atomic_numbers  [A] int
                        positions       [A, 3] float64, Å
                        forces          [A, 3] float64, eV/Å
                        cell            [T, 3, 3] float64, Å
                        pbc             [T, 3] bool
                        energy          [T] float64, eV
                        stress          [T, 3, 3] float64, eV/Å³
                        has_energy, has_forces, has_stress   [T] bool
                        velocities [A, 3] float64, Å/fs; has_velocities [T] bool (optional)
                        metadata/config_type, metadata/source_file   [T] str ("" = none)
                        metadata/temperature [T] float64, K; metadata/has_temperature [T] bool
                        metadata/weight      [T] float64, dimensionless, finite and >= 0

``velocities`` and ``has_velocities`` are optional, and each requires the other. The
``metadata`` group and its datasets are optional (``has_temperature`` is required with
``temperature``). ``metadata/weight`` multiplies the frame's terms in the training loss
(`AtomicGraph.weight`); every frame of a trajectory without it has weight 1.
"""

from __future__ import annotations

import os

import h5py
import numpy as np

from potentials.data.errors import DataFormatError

FORMAT_NAME: str = "potentials-trajectory"
"""Value of the root attribute ``format``."""
FORMAT_VERSION: int = 1
"""Value of the root attribute ``format_version`` written, and the newest version read."""
TRAJECTORIES_GROUP: str = "trajectories"
"""Group holding one subgroup per trajectory."""
METADATA_GROUP: str = "metadata"
"""Subgroup of a trajectory holding optional per-frame metadata."""

PER_ATOM_FIELDS: dict[str, tuple[int, ...]] = {
    "atomic_numbers": (),
    "positions": (3,),
    "forces": (3,),
}
"""Datasets with one row per atom, concatenated over frames, and each row's trailing shape."""
VELOCITIES: str = "velocities"
"""Optional per-atom dataset [A, 3] of velocities in Å/fs, with the mask ``has_velocities``."""
PER_FRAME_FIELDS: dict[str, tuple[int, ...]] = {
    "cell": (3, 3),
    "pbc": (3,),
    "energy": (),
    "stress": (3, 3),
    "has_energy": (),
    "has_forces": (),
    "has_stress": (),
}
"""Datasets with one row per frame, and each row's trailing shape."""
UNITS: dict[str, str] = {
    "positions": "Angstrom",
    "forces": "eV/Angstrom",
    "cell": "Angstrom",
    "energy": "eV",
    "stress": "eV/Angstrom^3",
    "temperature": "K",
    "velocities": "Angstrom/fs",
}
"""The ``unit`` attribute each dimensioned dataset must carry."""
DTYPE_KINDS: dict[str, str] = {
    "atomic_numbers": "iu",
    "positions": "f", "forces": "f", "cell": "f", "energy": "f", "stress": "f",
    "temperature": "f", "weight": "f", "velocities": "f", "has_velocities": "b",
    "pbc": "b", "has_energy": "b", "has_forces": "b", "has_stress": "b", "has_temperature": "b",
}
"""Allowed numpy dtype kinds of each dataset (integer, float, bool)."""
STRING_METADATA: tuple[str, ...] = ("config_type", "source_file")
"""Optional per-frame string metadata; the empty string means "not given"."""
WEIGHT_METADATA: str = "weight"
"""Optional per-frame loss weight (dimensionless, finite, >= 0); 1 where the dataset is absent."""
DEFAULT_WEIGHT: float = 1.0
"""Weight of every frame of a trajectory without a ``metadata/weight`` dataset."""


def check_root(file: h5py.File, path: str | os.PathLike[str]) -> None:
    """Raise `DataFormatError` unless ``file`` declares a format version this code reads."""
    name = file.attrs.get("format")
    if isinstance(name, bytes):
        name = name.decode()
    if name != FORMAT_NAME:
        raise DataFormatError(path, f"root attribute 'format' is {name!r}, expected "
                              f"{FORMAT_NAME!r}: not a potentials trajectory file")
    version = file.attrs.get("format_version")
    if version is None or not np.issubdtype(np.asarray(version).dtype, np.integer):
        raise DataFormatError(path, f"root attribute 'format_version' is {version!r}, "
                              "expected an integer")
    if int(version) > FORMAT_VERSION:
        raise DataFormatError(path, f"format_version {int(version)} is newer than the newest "
                              f"this version of potentials reads ({FORMAT_VERSION}); upgrade "
                              "potentials")
    if int(version) < 1:
        raise DataFormatError(path, f"format_version {int(version)} is not a valid version")
    if TRAJECTORIES_GROUP not in file:
        raise DataFormatError(path, f"no '/{TRAJECTORIES_GROUP}' group")


def _check_dataset(
    group: h5py.Group, name: str, rows: int, trailing: tuple[int, ...], path: str
) -> None:
    """Raise unless ``group[name]`` is a dataset of shape ``(rows, *trailing)`` and right unit."""
    field = f"{group.name}/{name}"
    if name not in group or not isinstance(group[name], h5py.Dataset):
        raise DataFormatError(path, "missing dataset", field=field)
    dataset = group[name]
    if dataset.shape != (rows, *trailing):
        raise DataFormatError(path, f"shape {dataset.shape}, expected {(rows, *trailing)}",
                              field=field)
    kinds = DTYPE_KINDS.get(name)
    if kinds is not None and dataset.dtype.kind not in kinds:
        raise DataFormatError(path, f"dtype {dataset.dtype} is not of kind {kinds!r}",
                              field=field)
    unit = UNITS.get(name)
    if unit is not None:
        found = dataset.attrs.get("unit")
        found = found.decode() if isinstance(found, bytes) else found
        if found != unit:
            raise DataFormatError(path, f"unit attribute {found!r}, expected {unit!r}",
                                  field=field)


def check_trajectory(group: h5py.Group, path: str | os.PathLike[str]) -> np.ndarray:
    """Check one trajectory group's datasets against the schema and return its frame offsets.

    Reads only ``frame_offsets`` (8 bytes per frame) and the datasets' shapes and attributes,
    never the per-atom data.

    Returns
    -------
    np.ndarray
        [n_frames + 1] int64 offsets: frame f holds atoms ``offsets[f]:offsets[f + 1]``.
    """
    path = os.fspath(path)
    field = f"{group.name}/frame_offsets"
    if "frame_offsets" not in group or group["frame_offsets"].ndim != 1:
        raise DataFormatError(path, "missing or not one-dimensional", field=field)
    offsets = np.asarray(group["frame_offsets"][()])
    if not np.issubdtype(offsets.dtype, np.integer) or len(offsets) < 1 or offsets[0] != 0:
        raise DataFormatError(path, "must be integers starting at 0", field=field)
    if np.any(np.diff(offsets) < 1):
        raise DataFormatError(path, "must increase strictly (no empty frames)", field=field)
    n_frames, n_atoms = len(offsets) - 1, int(offsets[-1])
    for name, trailing in PER_ATOM_FIELDS.items():
        _check_dataset(group, name, n_atoms, trailing, path)
    for name, trailing in PER_FRAME_FIELDS.items():
        _check_dataset(group, name, n_frames, trailing, path)
    present = [name for name in (VELOCITIES, f"has_{VELOCITIES}") if name in group]
    if len(present) == 1:
        raise DataFormatError(path, f"{present[0]} without its partner: velocities and "
                              f"has_velocities come together", field=f"{group.name}/{present[0]}")
    if present:
        _check_dataset(group, VELOCITIES, n_atoms, (3,), path)
        _check_dataset(group, f"has_{VELOCITIES}", n_frames, (), path)
    metadata = group.get(METADATA_GROUP)
    if metadata is not None:
        for name in metadata:
            _check_dataset(metadata, name, n_frames, (), path)
        if "temperature" in metadata and "has_temperature" not in metadata:
            raise DataFormatError(path, "missing dataset (required with temperature)",
                                  field=f"{metadata.name}/has_temperature")
    return offsets.astype(np.int64)
