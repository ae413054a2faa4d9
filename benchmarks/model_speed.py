"""Median time of one energy+forces evaluation against system size, float32 and float64.

One acetylacetone molecule (15 atoms) and periodic boxes of them at 0.85 g/cm³ (120, 960,
7,680 atoms). Each (size, dtype) runs in a fresh subprocess so that its peak resident
memory is its own. Prints ms per call, µs per atom, peak RSS, and the speed-up over MACE
at the model's cutoff, measured on this machine (mace_measured.py).

Usage: ``python benchmarks/model_speed.py [--model acac] [--sizes 1 8 64 512]`` (``--model
acac[9]`` for member 9 of the acac committee alone)
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from mace_measured import MACE_MS_PER_CALL_FLOAT64, mace_value

WARM_UP_CALLS = 3
"""Untimed calls first: at thousands of atoms the first calls of a process spend seconds in
the kernel while the heap grows to its working size (7,680 atoms, float32: 26.6 s of system
time in the first call, 4.1 s, 2.9 s and 1.2 s in the next three). An MD run or an
optimisation makes thousands of calls, so the steady state is the number that matters."""


def measure(model_name: str, n_molecules: int, dtype: str, budget_s: float) -> dict:
    """Time energy and forces on one box as the calculator computes them (a committee's
    members one after another); returns a result row."""
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from systems import acac_box

    from potentials.graph import from_atoms
    from potentials.memory import keep_freed_memory
    from potentials.model.committee import predict_members_in_turn
    from potentials.model.registry import load_named_model

    keep_freed_memory()  # as EquiCalculator does
    torch_dtype = getattr(torch, dtype)
    model = load_named_model(model_name, dtype=torch_dtype)
    atoms = acac_box(n_molecules)
    graph = from_atoms(atoms, model.cutoff_angstrom, dtype=torch_dtype)
    for _ in range(WARM_UP_CALLS):
        predict_members_in_turn(model, graph)
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < 50):
        tick = time.perf_counter()
        predict_members_in_turn(model, graph)
        times.append(time.perf_counter() - tick)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"atoms": len(atoms), "edges": int(graph.edge_index.shape[1]), "dtype": dtype,
            "cutoff_angstrom": model.cutoff_angstrom,
            "ms": 1000 * statistics.median(times), "repeats": len(times), "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="acac")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 64, 512],
                        help="numbers of molecules")
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--budget-s", type=float, default=10.0)
    parser.add_argument("--worker", nargs=2, metavar=("N_MOLECULES", "DTYPE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        row = measure(args.model, int(args.worker[0]), args.worker[1], args.budget_s)
        print(json.dumps(row))
        return
    print("| atoms | edges | dtype | ms/call | µs/atom | peak RSS MB | repeats | MACE ms | "
          "speed-up vs MACE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        for dtype in args.dtypes:
            output = subprocess.run(
                [sys.executable, __file__, "--model", args.model, "--budget-s",
                 str(args.budget_s), "--worker", str(n), dtype],
                capture_output=True, text=True, check=True).stdout
            row = json.loads(output.strip().splitlines()[-1])
            mace = (mace_value(MACE_MS_PER_CALL_FLOAT64, row["cutoff_angstrom"], row["atoms"])
                    if dtype == "float64" else None)
            ratio = f"{mace / row['ms']:.1f}x" if mace else "-"
            print(f"| {row['atoms']} | {row['edges']} | {dtype} | {row['ms']:.1f} | "
                  f"{1000 * row['ms'] / row['atoms']:.0f} | {row['peak_mb']:.0f} | "
                  f"{row['repeats']} | {mace or '-'} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
