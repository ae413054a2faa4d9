"""Conversion between `ase.Atoms` and `Frame`, and reading frames from any file ASE reads.

Each label is looked up by `lookup_label` under its own name (``energy``, ``forces``,
``stress``) or under a key the caller names, in the calculator results, then ``atoms.info``,
then ``atoms.arrays``. A label under its own name may be missing; a named key must be present
in every frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import ase
import ase.io
from ase.calculators.singlepoint import SinglePointCalculator
from ase.stress import full_3x3_to_voigt_6_stress

from potentials.data.errors import DataFormatError
from potentials.data.frame import Frame
from potentials.graph import lookup_label
from potentials.units import ANGSTROM_PER_FS_PER_ASE_VELOCITY

TEMPERATURE_KEY: str = "temperature_kelvin"
"""``atoms.info`` key of a frame's temperature in K."""
CONFIG_TYPE_KEY: str = "config_type"
"""``atoms.info`` key of a frame's free-form configuration label."""
SOURCE_FILE_KEY: str = "source_file"
"""``atoms.info`` key of the file a frame was first imported from."""
WEIGHT_KEY: str = "weight"
"""``atoms.info`` key of a frame's dimensionless loss weight (1 when absent)."""


def _labels(
    atoms: ase.Atoms, keys: dict[str, str | None], path: str, index: int
) -> dict[str, object]:
    """Each label under its key in ``keys``, or its own name if None; named keys must exist."""
    labels: dict[str, object] = {}
    for label, key in keys.items():
        labels[label] = lookup_label(atoms, label if key is None else key)
        if key is not None and labels[label] is None:
            raise DataFormatError(path, f"requested {label} key '{key}' is absent", index,
                                  label)
    return labels


def frame_from_atoms(
    atoms: ase.Atoms,
    energy_key: str | None = None,
    forces_key: str | None = None,
    stress_key: str | None = None,
    source_file: str | None = None,
    path: str | os.PathLike[str] = "<atoms>",
    index: int = 0,
) -> Frame:
    """The `Frame` of ``atoms``; ``path`` and ``index`` only name it in error messages.

    ``source_file`` is used unless ``atoms.info`` already names one; the loss weight is
    ``atoms.info["weight"]``, 1 when absent. Velocities are kept (in Å/fs) if ``atoms`` has
    momenta. The frame is not validated here: `validate_frame`
    does that when it is written.
    """
    keys = {"energy": energy_key, "forces": forces_key, "stress": stress_key}
    labels = _labels(atoms, keys, os.fspath(path), index)
    info = atoms.info
    return Frame(
        atomic_numbers=atoms.numbers.copy(),
        positions_angstrom=atoms.positions.copy(),
        cell_angstrom=atoms.cell.array.copy(),
        pbc=atoms.pbc.copy(),
        energy_ev=labels["energy"],
        forces_ev_per_angstrom=labels["forces"],
        stress_ev_per_angstrom3=labels["stress"],
        velocities_angstrom_per_fs=atoms.get_velocities() * ANGSTROM_PER_FS_PER_ASE_VELOCITY
        if atoms.has("momenta") else None,
        config_type=info.get(CONFIG_TYPE_KEY),
        temperature_kelvin=info.get(TEMPERATURE_KEY),
        source_file=info.get(SOURCE_FILE_KEY, source_file),
        weight=info.get(WEIGHT_KEY, 1.0),
    )


def frame_to_atoms(frame: Frame) -> ase.Atoms:
    """``ase.Atoms`` with the labels in a `SinglePointCalculator` and metadata in ``info``.

    The stress is given to the calculator in ASE's Voigt order; an asymmetric 3x3 stress has
    its off-diagonal pairs averaged by that conversion. The loss weight is put in
    ``info["weight"]`` only when it is not 1. Stored velocities become the atoms' momenta.
    """
    atoms = ase.Atoms(numbers=frame.atomic_numbers, positions=frame.positions_angstrom,
                      cell=frame.cell_angstrom, pbc=frame.pbc)
    if frame.velocities_angstrom_per_fs is not None:
        atoms.set_velocities(frame.velocities_angstrom_per_fs / ANGSTROM_PER_FS_PER_ASE_VELOCITY)
    results: dict[str, object] = {}
    if frame.energy_ev is not None:
        results["energy"] = frame.energy_ev
    if frame.forces_ev_per_angstrom is not None:
        results["forces"] = frame.forces_ev_per_angstrom
    if frame.stress_ev_per_angstrom3 is not None:
        results["stress"] = full_3x3_to_voigt_6_stress(frame.stress_ev_per_angstrom3)
    if results:
        atoms.calc = SinglePointCalculator(atoms, **results)
    for key, value in ((CONFIG_TYPE_KEY, frame.config_type),
                       (TEMPERATURE_KEY, frame.temperature_kelvin),
                       (SOURCE_FILE_KEY, frame.source_file)):
        if value is not None:
            atoms.info[key] = value
    if frame.weight != 1.0:
        atoms.info[WEIGHT_KEY] = frame.weight
    return atoms


def read_ase_frames(
    path: str | os.PathLike[str],
    energy_key: str | None = None,
    forces_key: str | None = None,
    stress_key: str | None = None,
) -> Iterator[Frame]:
    """Frames of every structure in ``path`` (any format ``ase.io.read`` reads), streamed.

    Raises
    ------
    DataFormatError
        If ASE cannot read a structure (naming the frame) or a requested key is absent.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataFormatError(path, "no such file")
    images = ase.io.iread(path, index=":")
    index = 0
    while True:
        try:
            atoms = next(images)
        except StopIteration:
            return
        except Exception as error:  # ASE raises many types for unreadable input
            raise DataFormatError(path, f"ASE cannot read this structure "
                                  f"({type(error).__name__}: {error})", index) from error
        yield frame_from_atoms(atoms, energy_key, forces_key, stress_key,
                               source_file=os.path.basename(path), path=path, index=index)
        index += 1
