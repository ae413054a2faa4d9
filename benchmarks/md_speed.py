"""MD throughput with EquiCalculator: steps/s, ns/day and the calculator's own overhead.

VelocityVerlet (0.5 fs) on one acetylacetone molecule (15 atoms) and periodic boxes of them
at 0.85 g/cm³ (120, 960 atoms), float32 and float64. The time spent inside the model
(graph -> energy, forces) is measured separately; everything else in a step (ASE
integrator, neighbour-list checks and rebuilds, host/device copies) is reported as overhead.

Usage: ``python benchmarks/md_speed.py [--model acac] [--sizes 1 8 64] [--steps 200]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from potentials import EquiCalculator

sys.path.insert(0, str(Path(__file__).parent))
from mace_measured import MACE_MD_STEPS_PER_S_FLOAT64, mace_value  # noqa: E402
from systems import MD_TIMESTEP_FS, acac_box, warmed_up_verlet  # noqa: E402


class ModelTimer:
    """Wraps a calculator's ``_predict`` (graph -> energy, forces: one model, a committee,
    compiled or not) and accumulates the seconds spent in it."""

    def __init__(self, calculator: EquiCalculator) -> None:
        self.seconds = 0.0
        self.original = calculator._predict
        calculator._predict = self

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        result = self.original(*args, **kwargs)
        self.seconds += time.perf_counter() - start
        return result


def run(model: str, n_molecules: int, dtype: str, steps: int, skin_angstrom: float
        ) -> tuple[int, float, float, int, float]:
    """(atoms, steps/s, fraction of time outside the model, neighbour-list builds, the
    model's cutoff in Å)."""
    atoms = acac_box(n_molecules)
    atoms.calc = EquiCalculator(model=model, dtype=dtype, skin_angstrom=skin_angstrom)
    dynamics = warmed_up_verlet(atoms)
    timer = ModelTimer(atoms.calc)
    start = time.perf_counter()
    dynamics.run(steps)
    wall = time.perf_counter() - start
    return (len(atoms), steps / wall, 1 - timer.seconds / wall,
            atoms.calc.neighbour_list_builds, atoms.calc.cutoff_angstrom)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="acac")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    print("| atoms | dtype | steps/s | ns/day | overhead outside model | NL builds | "
          "steps/s without skin | ms/step saved by skin | MACE steps/s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for dtype in args.dtypes:
            steps = max(20, args.steps // n)
            n_atoms, rate, overhead, builds, cutoff = run(args.model, n, dtype, steps, 0.5)
            _, rate_no_skin, _, _, _ = run(args.model, n, dtype, steps, 0.0)
            saved_ms = 1000 * (1 / rate_no_skin - 1 / rate)
            ns_per_day = rate * MD_TIMESTEP_FS * 86400 / 1e6
            mace = (mace_value(MACE_MD_STEPS_PER_S_FLOAT64, cutoff, n_atoms)
                    if dtype == "float64" else None)
            ratio = f"{rate / mace:.1f}x" if mace else "-"
            print(f"| {n_atoms} | {dtype} | {rate:.1f} | {ns_per_day:.3f} | "
                  f"{100 * overhead:.0f} % | {builds}/{steps + 5} | {rate_no_skin:.1f} | "
                  f"{saved_ms:.2f} | {mace or '-'} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
