"""neighbour_list against a brute-force O(N^2) search over periodic images."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from ase.geometry import minkowski_reduce

from potentials.graph import neighbour_list


def brute_force_pairs(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray,
                      cutoff: float) -> set[tuple[int, int, int, int, int]]:
    """Every (i, j, S) with |r_j - r_i + S @ cell| < cutoff, except (i, i, 0)."""
    cell = cell.copy()
    for axis in np.flatnonzero(~pbc & (np.linalg.norm(cell, axis=1) == 0)):
        cell[axis] = np.cross(cell[(axis + 1) % 3], cell[(axis + 2) % 3])  # placeholder only
    ranges = []
    for axis in range(3):
        if not pbc[axis]:
            ranges.append([0])
            continue
        others = np.delete(cell, axis, axis=0)
        normal = np.cross(others[0], others[1])
        plane_spacing = abs(np.linalg.det(cell)) / np.linalg.norm(normal)
        fractional = positions @ np.linalg.inv(cell)[:, axis]
        reach = int(np.ceil(cutoff / plane_spacing + np.ptp(fractional))) + 1
        ranges.append(range(-reach, reach + 1))
    pairs = set()
    for shift in itertools.product(*ranges):
        offset = np.array(shift) @ cell
        vectors = positions[None, :, :] - positions[:, None, :] + offset  # [n, n, 3]
        close = np.linalg.norm(vectors, axis=-1) < cutoff
        if not any(shift):
            np.fill_diagonal(close, False)
        for i, j in zip(*np.nonzero(close), strict=True):
            pairs.add((int(i), int(j), *shift))
    return pairs


def random_triclinic_cell(rng: np.random.Generator, length: float) -> np.ndarray:
    """A random, well-conditioned triclinic cell with vectors of roughly ``length``."""
    cell = length * (np.eye(3) + rng.uniform(-0.3, 0.3, (3, 3)))
    return cell if np.linalg.det(cell) > 0 else cell[[1, 0, 2]]


def listed_pairs(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray,
                 cutoff: float) -> set[tuple[int, int, int, int, int]]:
    centres, neighbours, shifts = neighbour_list(positions, cell, pbc, cutoff)
    assert centres.dtype == neighbours.dtype == shifts.dtype == np.int64
    pairs = {(int(i), int(j), *map(int, s))
             for i, j, s in zip(centres, neighbours, shifts, strict=True)}
    assert len(pairs) == len(centres), "duplicate pairs"
    return pairs


PBCS = [(True, True, True), (True, True, False), (True, False, False), (False, True, True),
        (False, False, False)]


@pytest.mark.parametrize("pbc", PBCS)
@pytest.mark.parametrize(("length", "n_atoms", "cutoff"), [
    (8.0, 20, 3.0),   # cell larger than twice the cutoff
    (4.0, 6, 3.5),    # cell about the cutoff
    (2.2, 3, 5.0),    # cell much smaller than the cutoff: many images of each atom
])
def test_matches_brute_force(pbc: tuple[bool, bool, bool], length: float, n_atoms: int,
                             cutoff: float) -> None:
    rng = np.random.default_rng(hash((pbc, length)) % 2**32)
    for _ in range(3):
        cell = random_triclinic_cell(rng, length)
        positions = rng.uniform(-0.1, 1.1, (n_atoms, 3)) @ cell  # some atoms outside the cell
        expected = brute_force_pairs(positions, cell, np.array(pbc), cutoff)
        assert listed_pairs(positions, cell, np.array(pbc), cutoff) == expected


def test_slab_with_zero_vacuum_vector() -> None:
    rng = np.random.default_rng(5)
    cell = random_triclinic_cell(rng, 5.0)
    cell[2] = 0.0  # ASE slabs may have no third vector along their non-periodic direction
    positions = rng.uniform(0, 1, (10, 3)) @ np.vstack([cell[:2], [0, 0, 6.0]])
    pbc = np.array([True, True, False])
    assert listed_pairs(positions, cell, pbc, 4.0) == brute_force_pairs(positions, cell, pbc,
                                                                        4.0)


def test_pairs_are_symmetric() -> None:
    rng = np.random.default_rng(11)
    cell = random_triclinic_cell(rng, 3.0)
    positions = rng.uniform(0, 1, (5, 3)) @ cell
    pairs = listed_pairs(positions, cell, np.array([True] * 3), 4.0)
    assert pairs == {(j, i, -a, -b, -c) for i, j, a, b, c in pairs}


def test_isolated_molecule_ignores_cell() -> None:
    positions = np.array([[0.0, 0, 0], [0, 0, 1.0], [0, 0, 9.0]])
    pairs = listed_pairs(positions, 2.0 * np.eye(3), np.zeros(3, bool), 1.5)
    assert pairs == {(0, 1, 0, 0, 0), (1, 0, 0, 0, 0)}


CRASH_CASES = {
    "a diatomic come apart": ("[[0, 0, 0], [1e6, 0, 0]]", "np.zeros((3, 3))", "[False] * 3"),
    "an atom far above a slab": ("[[0, 0, 0], [1, 1, 1e6]]", "np.diag([3.0, 3.0, 0.0])",
                                 "[True, True, False]"),
}


@pytest.mark.parametrize("case", list(CRASH_CASES))
def test_atoms_spread_over_too_many_cutoffs_are_an_error_not_a_crash(case: str) -> None:
    """vesin 0.6 aborts the process (SIGFPE) on these, so they run in a subprocess: the check
    must raise a ValueError naming the extent before vesin sees them."""
    positions, cell, pbc = CRASH_CASES[case]
    code = ("import numpy as np\nfrom potentials.graph import neighbour_list\n"
            f"neighbour_list(np.array({positions}, float), {cell}, np.array({pbc}), 5.0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    assert "the atoms spread over 1e+06 Å along non-periodic directions" in result.stderr


def test_far_unwrapped_positions_along_periodic_directions_are_fine() -> None:
    """Only non-periodic directions count: a slab's atoms unwrapped 1e6 Å along its periodic
    plane keep the neighbours of the wrapped ones."""
    cell = np.diag([3.0, 3.0, 0.0])
    pbc = np.array([True, True, False])
    wrapped = np.array([[0.0, 0.0, 0.0], [1.5, 1.5, 1.0]])
    unwrapped = wrapped + np.array([[3e5, 0.0, 0.0], [0.0, 3e5, 0.0]])  # whole lattice steps
    pairs = [{(i, j) for i, j in zip(*neighbour_list(p, cell, pbc, 4.0)[:2], strict=True)}
             for p in (wrapped, unwrapped)]
    counts = [len(neighbour_list(p, cell, pbc, 4.0)[0]) for p in (wrapped, unwrapped)]
    assert pairs[0] == pairs[1] and counts[0] == counts[1] > 0


@pytest.mark.parametrize(("cell", "pbc", "shortest"), [
    ([[3, 0, 0], [3, 1e-3, 0], [0, 0, 3]], [True] * 3, 1e-3),  # rows 3 Å long, a - b tiny
    ([[3, 0, 0], [6, 0, 0], [0, 0, 3]], [True, True, False], 0.0),  # coplanar: degenerate
    ([[3, 0, 0], [3, 0.05, 0], [0, 0, 0]], [True, True, False], 0.05),  # a slab's plane
])
def test_a_lattice_vector_shorter_than_0_1_angstrom_is_refused(cell, pbc, shortest) -> None:
    """Found by Minkowski reduction, so a skewed cell's short combination counts; without the
    check a 1e-3 Å vector takes seconds, 1e-4 Å minutes (~cutoff / length images per atom)."""
    with pytest.raises(ValueError, match=f"has a lattice vector of {shortest:.3g} Å"):
        neighbour_list(np.zeros((1, 3)), np.array(cell, float), np.array(pbc), 5.0)


def test_a_skewed_but_sound_cell_is_accepted() -> None:
    """Rows 3 Å and 1,000 Å long whose reduced basis is 1.49, 2.15 and 3 Å: no error, and the
    same pairs as the reduced cell."""
    skewed = np.array([[3.0, 0, 0], [1000.1, 1, 0], [0, 0, 3.0]])
    reduced, _ = minkowski_reduce(skewed)
    counts = [len(neighbour_list(np.zeros((1, 3)), cell, np.array([True] * 3), 3.0)[0])
              for cell in (skewed, reduced)]
    assert counts[0] == counts[1] > 0  # one atom: the same lattice has the same images
