"""MD steps per second of the compiled calculator against the eager one, and when it pays.

VelocityVerlet (0.5 fs) from 300 K on one acetylacetone molecule (15 atoms) and periodic
boxes of them at 0.85 g/cm³ (120, 960 atoms), with ``EquiCalculator(model, compile=False)``
and ``compile=True``, one after the other, same start. For the compiled calculator the
first step, which compiles, is timed on its own; the break-even is the number of steps after
which compiling has saved more time than it cost. Compiled code is cached on disk
(``TORCHINDUCTOR_CACHE_DIR``, default ``/tmp/torchinductor_$USER``) and reused by later
sizes and later runs: point it at an empty directory to time a first compilation.

Usage: ``TORCHINDUCTOR_CACHE_DIR=$(mktemp -d) python benchmarks/compiled_speed.py [--model acac]
[--sizes 1 8 64] [--steps 200]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from potentials import EquiCalculator

sys.path.insert(0, str(Path(__file__).parent))
from systems import acac_box, warmed_up_verlet  # noqa: E402


def run(model: str, n_molecules: int, dtype: str, steps: int, compile: bool
        ) -> tuple[int, float, float, float]:
    """(atoms, seconds of the first force call, steps/s after warm-up, final potential
    energy in eV)."""
    atoms = acac_box(n_molecules)
    atoms.calc = EquiCalculator(model=model, dtype=dtype, compile=compile)
    start = time.perf_counter()
    atoms.get_forces()
    first_s = time.perf_counter() - start
    dynamics = warmed_up_verlet(atoms)
    start = time.perf_counter()
    dynamics.run(steps)
    rate = steps / (time.perf_counter() - start)
    return len(atoms), first_s, rate, atoms.get_potential_energy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="acac")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 64],
                        help="numbers of molecules")
    parser.add_argument("--dtypes", nargs="+", default=["float64"])
    parser.add_argument("--steps", type=int, default=200, help="timed steps for one molecule "
                        "(divided by the number of molecules, at least 20)")
    args = parser.parse_args()
    print("| atoms | dtype | eager steps/s | compiled steps/s | speed-up | first call "
          "eager s | first call compiled s | break-even steps | energy difference eV |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for dtype in args.dtypes:
            steps = max(20, args.steps // n)
            n_atoms, first_eager, eager, energy_eager = run(args.model, n, dtype, steps, False)
            _, first_compiled, compiled, energy_compiled = run(args.model, n, dtype, steps,
                                                               True)
            saved_per_step = 1 / eager - 1 / compiled
            extra_s = max(0.0, first_compiled - first_eager)  # 0 with a warm compiler cache
            break_even = extra_s / saved_per_step if saved_per_step > 0 else float("inf")
            print(f"| {n_atoms} | {dtype} | {eager:.1f} | {compiled:.1f} | "
                  f"{compiled / eager:.2f}x | {first_eager:.1f} | {first_compiled:.0f} | "
                  f"{break_even:,.0f} | {abs(energy_compiled - energy_eager):.1e} |",
                  flush=True)


if __name__ == "__main__":
    main()
