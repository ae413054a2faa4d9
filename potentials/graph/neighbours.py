"""Neighbour lists with integer periodic cell shifts.

We use `vesin <https://github.com/Luthaf/vesin>`_: a cell-list algorithm, O(N), that handles
triclinic cells, mixed periodicity (slabs, wires) and cells smaller than twice the cutoff (an
atom then sees several images of the same neighbour, and of itself). Measured against matscipy
and ASE in ``benchmarks/neighbour_list_speed.py`` (table in ``docs/benchmarks.md``).
"""

from __future__ import annotations

import numpy as np
from ase.geometry import minkowski_reduce
from vesin import NeighborList

MAX_EXTENT_IN_CUTOFFS = 10_000
"""Largest extent of the atoms along non-periodic directions, in cutoffs, that is accepted:
vesin 0.6 aborts the whole process (SIGFPE) from about 100,000 cutoffs on a flat or linear
arrangement (a diatomic come apart, a slab with an atom far above it)."""

MIN_IMAGE_DISTANCE_ANGSTROM = 0.1
"""Shortest periodic lattice vector accepted: below it every atom sits on its own images, and
the neighbour search over ~(cutoff / length) images per atom would run for minutes."""


def shortest_lattice_vector_angstrom(cell_angstrom: np.ndarray, pbc: np.ndarray) -> float:
    """Length in Å of the shortest non-zero vector of the periodic lattice (Minkowski
    reduction: a skewed cell's short vector is found, not only its rows' lengths)."""
    pbc = np.asarray(pbc, dtype=bool)
    cell = np.asarray(cell_angstrom, dtype=np.float64)
    if np.linalg.norm(cell[pbc], axis=1).min() == 0.0:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        try:
            reduced, _ = minkowski_reduce(cell, pbc)
        except ValueError:  # the reduction met a zero vector: the lattice is degenerate
            return 0.0
    return float(np.linalg.norm(reduced[pbc], axis=1).min())


def non_periodic_extent_angstrom(positions_angstrom: np.ndarray, cell_angstrom: np.ndarray,
                                 pbc: np.ndarray) -> float:
    """How far the atoms spread, in Å, along the directions no periodic lattice vector spans
    (every direction for a molecule; the normal of a slab)."""
    periodic = np.asarray(cell_angstrom, dtype=np.float64)[np.asarray(pbc, dtype=bool)]
    positions = np.asarray(positions_angstrom, dtype=np.float64)
    if len(periodic):
        basis, _ = np.linalg.qr(periodic.T)  # [3, n_periodic] orthonormal columns
        positions = positions - positions @ basis @ basis.T
    return float(np.ptp(positions, axis=0).max())


def _check_searchable(positions_angstrom: np.ndarray, cell_angstrom: np.ndarray,
                      pbc: np.ndarray, cutoff_angstrom: float) -> None:
    """Raise ValueError for a lattice vector below `MIN_IMAGE_DISTANCE_ANGSTROM` or atoms
    spread over more than `MAX_EXTENT_IN_CUTOFFS` cutoffs along non-periodic directions."""
    if pbc.any():
        shortest = shortest_lattice_vector_angstrom(cell_angstrom, pbc)
        if shortest < MIN_IMAGE_DISTANCE_ANGSTROM:
            raise ValueError(
                f"the periodic cell {np.asarray(cell_angstrom).tolist()} has a lattice vector "
                f"of {shortest:.3g} Å: every atom is closer than {MIN_IMAGE_DISTANCE_ANGSTROM} "
                f"Å to its own periodic image")
    if not pbc.all():
        extent = non_periodic_extent_angstrom(positions_angstrom, cell_angstrom, pbc)
        limit = MAX_EXTENT_IN_CUTOFFS * cutoff_angstrom
        if extent > limit:
            raise ValueError(
                f"the atoms spread over {extent:.4g} Å along non-periodic directions, more "
                f"than {MAX_EXTENT_IN_CUTOFFS:,} cutoffs ({limit:g} Å): the structure has "
                f"come apart (an atom escaping in MD?)")


def neighbour_list(
    positions_angstrom: np.ndarray,
    cell_angstrom: np.ndarray,
    pbc: np.ndarray,
    cutoff_angstrom: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs (i, j, S) with ``|r_j - r_i + S @ cell| < cutoff``.

    Parameters
    ----------
    positions_angstrom
        [n_atoms, 3] Cartesian positions in Å (need not be wrapped into the cell).
    cell_angstrom
        [3, 3] lattice vectors as rows in Å; ignored along non-periodic directions.
    pbc
        [3] periodicity of each lattice direction.
    cutoff_angstrom
        Neighbour cutoff in Å.

    Raises ValueError when the atoms spread over more than `MAX_EXTENT_IN_CUTOFFS` cutoffs
    along non-periodic directions, or when a periodic lattice vector is shorter than
    `MIN_IMAGE_DISTANCE_ANGSTROM`.

    Returns
    -------
    centres, neighbours, cell_shifts
        [n_edges] int64, [n_edges] int64, [n_edges, 3] int64. The pair (i, i, 0) is excluded;
        an atom paired with its own periodic image is included. Both (i, j, S) and
        (j, i, -S) are listed.
    """
    pbc = np.asarray(pbc, dtype=bool)
    positions = np.ascontiguousarray(positions_angstrom, dtype=np.float64)
    _check_searchable(positions, cell_angstrom, pbc, cutoff_angstrom)
    box = np.array(cell_angstrom, dtype=np.float64)
    if not pbc.any():
        box = np.zeros((3, 3))
    calculator = NeighborList(cutoff=float(cutoff_angstrom), full_list=True)
    centres, neighbours, shifts = calculator.compute(
        points=positions, box=box, periodic=pbc.tolist(), quantities="ijS"
    )
    return centres.astype(np.int64), neighbours.astype(np.int64), shifts.astype(np.int64)
