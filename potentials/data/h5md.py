"""Import H5MD files (``particles/<group>/position/value`` [time, N, 3] ...) as frames.

Read, per time step: positions from ``particles/<g>/position/value``, forces from
``particles/<g>/force/value``, the box from ``particles/<g>/box`` (``boundary`` attribute and
``edges``, constant or per step, diagonal [3] or full [3, 3]) and the potential energy from
``observables/potential_energy/value`` or ``observables/<g>/potential_energy/value``. Values
are converted to Å, eV and eV/Å from the ``unit`` attribute of each ``value`` dataset (see
`potentials.data.h5md_units`). Elements come from ``particles/<g>/species`` (atomic numbers or
symbols) if present, else from the ``species`` argument.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import h5py
import numpy as np
from ase.data import atomic_numbers

from potentials.data.errors import DataFormatError
from potentials.data.frame import Frame
from potentials.data.h5md_units import conversion_factor
from potentials.data.reader import open_hdf5

BLOCK_FRAMES: int = 256
"""Time steps read from the file at once."""


def is_h5md(file: h5py.File) -> bool:
    """Whether the open HDF5 ``file`` has the ``h5md`` and ``particles`` groups of H5MD."""
    return "h5md" in file and "particles" in file


def _value(node: h5py.Group | h5py.Dataset) -> h5py.Dataset:
    """The data of an H5MD element: the dataset itself (time-independent) or its ``value``."""
    return node["value"] if isinstance(node, h5py.Group) else node


def _unit(dataset: h5py.Dataset, quantity: str, path: str) -> float:
    unit = dataset.attrs.get("unit")
    if unit is None:
        raise DataFormatError(path, f"no 'unit' attribute, so the {quantity} unit is unknown",
                              field=dataset.name)
    unit = unit.decode() if isinstance(unit, bytes) else str(unit)
    return conversion_factor(unit, quantity, path, dataset.name)


def _species(group: h5py.Group, species: np.ndarray | None, n_atoms: int, path: str) -> np.ndarray:
    """Atomic numbers from ``group/species`` (first step if per-step) or from ``species``."""
    if "species" in group:
        values = np.asarray(_value(group["species"])[()])
        values = values[0] if values.ndim == 2 else values
        if values.dtype.kind in "SUO":
            symbols = [v.decode() if isinstance(v, bytes) else str(v) for v in values]
            unknown = [s for s in symbols if s not in atomic_numbers]
            if unknown:
                raise DataFormatError(path, f"unknown element symbol {unknown[0]!r}",
                                      field=f"{group.name}/species")
            values = np.array([atomic_numbers[s] for s in symbols])
        origin = f"{group.name}/species"
    elif species is not None:
        values, origin = np.asarray(species), "--species"
    else:
        raise DataFormatError(path, f"no '{group.name}/species'; give the elements with "
                              "--species (formula, comma list or structure file)")
    if values.shape != (n_atoms,):
        raise DataFormatError(path, f"{origin} gives {values.shape} elements for {n_atoms} "
                              "atoms", field=origin)
    return values.astype(np.int64)


def _energy_dataset(file: h5py.File, group_name: str) -> h5py.Dataset | None:
    for name in ("observables/potential_energy", f"observables/{group_name}/potential_energy"):
        if name in file:
            return _value(file[name])
    return None


def _pick_group(file: h5py.File, group_name: str | None, path: str) -> h5py.Group:
    names = list(file["particles"])
    if group_name is None and len(names) == 1:
        group_name = names[0]
    if group_name not in names:
        raise DataFormatError(path, f"particles group {group_name!r} not found; choose one of "
                              f"{names}", field="particles")
    return file["particles"][group_name]


class _Box:
    """Periodicity and cell of an H5MD ``box``: constant or one per step, in Å."""

    def __init__(self, group: h5py.Group, n_steps: int, path: str) -> None:
        box = group.get("box")
        boundary = [] if box is None else list(box.attrs.get("boundary", []))
        boundary = [b.decode() if isinstance(b, bytes) else str(b) for b in boundary]
        self.pbc = np.array([b == "periodic" for b in boundary] or [False] * 3)
        self.edges, self.per_step, self.factor = None, False, 1.0
        if box is not None and "edges" in box:
            self.per_step = isinstance(box["edges"], h5py.Group)
            self.edges = _value(box["edges"])
            self.factor = _unit(self.edges, "length", path)
            trailing = self.edges.shape[1:] if self.per_step else self.edges.shape
            if trailing not in ((3,), (3, 3)) or (self.per_step and len(self.edges) != n_steps):
                raise DataFormatError(path, f"shape {self.edges.shape} is not [3], [3, 3], "
                                      f"[{n_steps}, 3] or [{n_steps}, 3, 3]", field=box.name)
        if self.pbc.shape != (3,):
            raise DataFormatError(path, f"boundary {boundary} has not 3 entries", field="box")
        if self.pbc.any() and self.edges is None:
            raise DataFormatError(path, "periodic boundary without box edges", field="box")

    def cells(self, start: int, stop: int) -> np.ndarray:
        """[stop - start, 3, 3] cells in Å of steps ``start:stop``."""
        if self.edges is None:
            return np.zeros((stop - start, 3, 3))
        edges = self.edges[start:stop] if self.per_step else self.edges[()][None]
        edges = edges * self.factor
        if edges.shape[1:] == (3,):
            edges = edges[:, :, None] * np.eye(3)
        return np.broadcast_to(edges, (stop - start, 3, 3))


def _check_steps(dataset: h5py.Dataset | None, shape: tuple[int, ...], path: str) -> None:
    if dataset is not None and dataset.shape != shape:
        raise DataFormatError(path, f"shape {dataset.shape}, expected {shape} to match "
                              "the positions", field=dataset.name)


def _positions(group: h5py.Group, path: str) -> h5py.Dataset:
    """The [time, N, 3] position dataset of a particles group."""
    if "position" not in group:
        raise DataFormatError(path, "missing", field=f"{group.name}/position")
    positions = _value(group["position"])
    if positions.ndim != 3 or positions.shape[2] != 3:
        raise DataFormatError(path, f"shape {positions.shape}, expected [time, N, 3]",
                              field=positions.name)
    return positions


def _unit_factors(positions: h5py.Dataset, forces: h5py.Dataset | None,
                  energy: h5py.Dataset | None, path: str) -> dict[str, float]:
    """Factors to Å, eV/Å and eV of the datasets present, from their ``unit`` attributes."""
    factors = {"positions": _unit(positions, "length", path)}
    if forces is not None:
        factors["forces"] = _unit(forces, "force", path)
    if energy is not None:
        factors["energy"] = _unit(energy, "energy", path)
    return factors


def read_h5md_frames(
    path: str | os.PathLike[str],
    species: np.ndarray | None = None,
    particles_group: str | None = None,
) -> Iterator[Frame]:
    """Frames of every time step of an H5MD file, in Å, eV and eV/Å, streamed in blocks.

    Parameters
    ----------
    path
        The H5MD file.
    species
        [N] atomic numbers, used when the file has no ``species`` element.
    particles_group
        Which ``particles`` subgroup to read; needed only if there are several.

    Raises
    ------
    DataFormatError
        On unknown units, mismatched shapes, or missing species.
    """
    path = os.fspath(path)
    with open_hdf5(path) as file:
        if "particles" not in file:
            raise DataFormatError(path, "no 'particles' group: not an H5MD file")
        group = _pick_group(file, particles_group, path)
        positions = _positions(group, path)
        n_steps, n_atoms = positions.shape[:2]
        forces = _value(group["force"]) if "force" in group else None
        energy = _energy_dataset(file, group.name.split("/")[-1])
        _check_steps(forces, positions.shape, path)
        _check_steps(energy, (n_steps,), path)
        factors = _unit_factors(positions, forces, energy, path)
        numbers = _species(group, species, n_atoms, path)
        box = _Box(group, n_steps, path)
        for start in range(0, n_steps, BLOCK_FRAMES):
            stop = min(start + BLOCK_FRAMES, n_steps)
            block_positions = positions[start:stop] * factors["positions"]
            block_forces = None if forces is None else forces[start:stop] * factors["forces"]
            block_energy = None if energy is None else energy[start:stop] * factors["energy"]
            cells = box.cells(start, stop)
            for k in range(stop - start):
                yield Frame(
                    atomic_numbers=numbers,
                    positions_angstrom=block_positions[k],
                    cell_angstrom=cells[k],
                    pbc=box.pbc,
                    energy_ev=None if block_energy is None else float(block_energy[k]),
                    forces_ev_per_angstrom=None if block_forces is None else block_forces[k],
                    source_file=os.path.basename(path),
                )
