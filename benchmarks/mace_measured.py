"""MACE's speed on this 2-core machine, for the speed-up columns of model_speed.py and md_speed.py.

MACE (mace-torch 0.3.16, 64x0e+64x1o, spherical harmonics to l=3, correlation 3, 2 layers),
float64, torch 2.13 CPU, 2 threads, with the allocator setting ours runs with
(`potentials.memory.keep_freed_memory`), measured 2026-11-28 with
``/work/mace-venv/bin/python benchmarks/mace_speed.py --run both --modes mallopt --budget 10
--r-max R`` for R = 5.0 and 3.5 Å, the machine otherwise idle (docs/benchmarks.md has the
tables, MACE's default allocator and an earlier day). Keyed by MACE's cutoff in Å, so that a
model is compared with MACE at its own cutoff; then by number of atoms.
"""

from __future__ import annotations

MACE_MS_PER_CALL_FLOAT64 = {
    5.0: {15: 78.0, 120: 522.6, 960: 6098.2},
    3.5: {15: 82.8, 120: 288.4, 960: 2309.1},
}
"""Median ms per energy+forces call (MACE called directly on a prebuilt batch)."""

MACE_MD_STEPS_PER_S_FLOAT64 = {
    5.0: {15: 11.75, 120: 1.91},
    3.5: {15: 13.13, 120: 3.24},
}
"""VelocityVerlet steps/s at 0.5 fs with MACE's ASE calculator (``MACECalculator``), which
builds its neighbour list every step and also computes the stress."""


def mace_value(table: dict[float, dict[int, float]], cutoff_angstrom: float,
               n_atoms: int) -> float | None:
    """The entry of ``table`` for MACE at ``cutoff_angstrom`` on ``n_atoms`` atoms, or None
    if MACE was not measured there."""
    return table.get(round(cutoff_angstrom, 3), {}).get(n_atoms)
