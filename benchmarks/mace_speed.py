"""MACE here: median energy+forces call time and MD steps/s, for model_speed.py and md_speed.py.

Builds an untrained ``ScaleShiftMACE`` (timing does not depend on weight values): hidden
irreps 64x0e+64x1o, spherical harmonics to l=3, correlation 3, 2 interactions, r_max 5 Å
(``--r-max``), 8 Bessel functions, polynomial cutoff p=5, radial MLP [64, 64, 64], elements
H, C, O, avg_num_neighbors = the structure's real mean neighbour count; float64, CPU, 2 threads.
It is called directly (``training=False, compute_force=True``) on a batch built once with
mace's data tools, so the neighbour list is outside the timing, as in model_speed.py.
Systems: ``acac_box(n)`` from systems.py (15, 120, 960 atoms). Each (size, mode) runs in a
fresh subprocess; mode ``mallopt`` sets glibc's mallopt (keep freed memory, as
``potentials.memory.keep_freed_memory`` does) before anything else is imported.

MD, as md_speed.py measures it for EquiCalculator: the same model, torch.saved to a temporary
file and loaded by MACE's ASE calculator (``mace.calculators.MACECalculator``, float64, CPU;
it builds its neighbour list every step and, for model_type MACE, always computes the stress
too); momenta thermalised at 300 K, VelocityVerlet at 0.5 fs, 5 warm-up steps, then N timed
steps. Default: 1 and 8 molecules (15, 120 atoms) with 100 and 20 steps, each (size, mode)
in a fresh subprocess.

MACE pins e3nn==0.4.4 and potentials needs e3nn>=0.5.1, so MACE lives in its own venv:

    python3 -m venv /work/mace-venv
    /work/mace-venv/bin/pip install torch==2.13.0        # the CPU build on local disk, first
    /work/mace-venv/bin/pip install mace-torch==0.3.16 ase

Usage: ``/work/mace-venv/bin/python benchmarks/mace_speed.py [--run calls|md|both]
[--sizes 1 8 64] [--budget 60] [--md-sizes 1 8] [--md-steps 100 20] [--r-max 5.0]
[--modes default mallopt]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
MODES = ("default", "mallopt")
TIMESTEP_FS = 0.5
WARMUP_STEPS = 5


def keep_freed_memory() -> None:
    """``potentials.memory.keep_freed_memory``, the setting potentials runs with.

    Loaded from its file: importing the ``potentials`` package would load its model code,
    which MACE's venv (e3nn 0.4.4) cannot import; the module itself needs only ctypes.
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "potentials_memory", BENCHMARKS.parent / "potentials" / "memory.py")
    memory = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(memory)
    if not memory.keep_freed_memory():
        sys.exit("mode mallopt needs glibc's mallopt")


def build_model(atoms: Any, r_max_angstrom: float) -> tuple[Any, Any]:
    """The untrained float64 ``ScaleShiftMACE`` of the module docstring for ``atoms`` (an
    ``ase.Atoms``) with cutoff ``r_max_angstrom`` and the structure's mace graph; sets torch
    to float64 and 2 threads."""
    import mace  # noqa: F401  first: lets e3nn 0.4.4 torch.load its constants under torch >= 2.6
    import numpy as np
    import torch
    from e3nn import o3
    from mace import data, modules, tools

    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(2)
    z_table = tools.AtomicNumberTable([1, 6, 8])
    graph = data.AtomicData.from_config(data.config_from_atoms(atoms), z_table=z_table,
                                        cutoff=r_max_angstrom)
    torch.manual_seed(0)
    model = modules.ScaleShiftMACE(
        r_max=r_max_angstrom, num_bessel=8, num_polynomial_cutoff=5, max_ell=3,
        interaction_cls=modules.RealAgnosticResidualInteractionBlock,
        interaction_cls_first=modules.RealAgnosticResidualInteractionBlock,
        num_interactions=2, num_elements=3, hidden_irreps=o3.Irreps("64x0e+64x1o"),
        MLP_irreps=o3.Irreps("16x0e"), atomic_energies=np.zeros(3),
        avg_num_neighbors=graph.edge_index.shape[1] / len(atoms), atomic_numbers=z_table.zs,
        correlation=3, gate=torch.nn.functional.silu, radial_MLP=[64, 64, 64],
        atomic_inter_scale=1.0, atomic_inter_shift=0.0,
    ).eval()
    return model, graph


def load_acac_box(n_molecules: int) -> Any:
    """``acac_box(n_molecules)`` from systems.py (imported here, after any mallopt)."""
    sys.path.insert(0, str(BENCHMARKS))
    from systems import acac_box

    return acac_box(n_molecules)


def measure(n_molecules: int, mode: str, budget_s: float, r_max_angstrom: float
            ) -> dict[str, Any]:
    """Time energy+forces of MACE on ``acac_box(n_molecules)``; returns a result row."""
    if mode == "mallopt":
        keep_freed_memory()
    import statistics
    import time

    import mace
    from mace.tools.torch_geometric import DataLoader

    atoms = load_acac_box(n_molecules)
    model, graph = build_model(atoms, r_max_angstrom)
    n_edges = int(graph.edge_index.shape[1])
    batch = next(iter(DataLoader([graph], batch_size=1))).to_dict()

    def call() -> None:
        out = model(batch, training=False, compute_force=True)
        assert out["forces"] is not None and out["forces"].shape == (len(atoms), 3)

    call()  # warm-up
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < 50):
        tick = time.perf_counter()
        call()
        times.append(time.perf_counter() - tick)
    return {"atoms": len(atoms), "edges": n_edges, "mode": mode, "version": mace.__version__,
            "ms": 1000 * statistics.median(times), "repeats": len(times)}


def measure_md(n_molecules: int, mode: str, steps: int, r_max_angstrom: float
               ) -> dict[str, Any]:
    """Steps/s of VelocityVerlet MD with MACE's ASE calculator on ``acac_box(n_molecules)``,
    set up as md_speed.py does; returns a result row."""
    if mode == "mallopt":
        keep_freed_memory()
    import tempfile
    import time

    import mace
    import numpy as np
    import torch
    from ase import units
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet
    from mace.calculators import MACECalculator

    atoms = load_acac_box(n_molecules)
    model, _ = build_model(atoms, r_max_angstrom)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "acac.model"
        torch.save(model, path)
        atoms.calc = MACECalculator(model_paths=str(path), device="cpu",
                                    default_dtype="float64")
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dynamics = VelocityVerlet(atoms, timestep=TIMESTEP_FS * units.fs)
    dynamics.run(WARMUP_STEPS)
    start = time.perf_counter()
    dynamics.run(steps)
    wall = time.perf_counter() - start
    return {"atoms": len(atoms), "mode": mode, "version": mace.__version__, "steps": steps,
            "steps_per_s": steps / wall}


def run_children(jobs: list[list[str]]) -> list[dict[str, Any]]:
    """Run this script once per ``--child`` argument list in a fresh subprocess; their rows."""
    rows: list[dict[str, Any]] = []
    for job in jobs:
        result = subprocess.run([sys.executable, __file__, *job], capture_output=True,
                                text=True)
        if result.returncode != 0:
            sys.exit(f"{' '.join(job)}: failed\n{result.stderr}")
        rows.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"done: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", choices=("calls", "md", "both"), default="both",
                        help="call timing, MD, or both")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 64],
                        help="numbers of molecules for the call timing")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of repeats")
    parser.add_argument("--md-sizes", type=int, nargs="+", default=[1, 8],
                        help="numbers of molecules for MD")
    parser.add_argument("--md-steps", type=int, nargs="+", default=[100, 20],
                        help="timed MD steps, one per --md-sizes entry (or one for all)")
    parser.add_argument("--r-max", type=float, default=5.0, help="MACE's cutoff in Å")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                        help="allocator modes to run")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "N_MOLECULES", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, n_molecules, mode = args.child[0], int(args.child[1]), args.child[2]
        row = (measure(n_molecules, mode, args.budget, args.r_max) if kind == "calls"
               else measure_md(n_molecules, mode, args.md_steps[0], args.r_max))
        print(json.dumps(row))
        return
    if len(args.md_steps) not in (1, len(args.md_sizes)):
        parser.error("--md-steps needs one value or one per --md-sizes entry")
    md_steps = args.md_steps * len(args.md_sizes) if len(args.md_steps) == 1 else args.md_steps
    if args.run in ("calls", "both"):
        rows = run_children([["--budget", str(args.budget), "--r-max", str(args.r_max),
                              "--child", "calls", str(n), mode]
                             for n in args.sizes for mode in args.modes])
        print(f"MACE (mace-torch {rows[0]['version']}), r_max {args.r_max} Å, float64, CPU, "
              "2 threads\n")
        print("| atoms | edges | mode | ms/call | repeats |")
        print("| ---: | ---: | --- | ---: | ---: |")
        for row in rows:
            print(f"| {row['atoms']} | {row['edges']} | {row['mode']} | {row['ms']:.1f} | "
                  f"{row['repeats']} |")
    if args.run in ("md", "both"):
        pairs = zip(args.md_sizes, md_steps, strict=True)
        rows = run_children([["--md-steps", str(steps), "--r-max", str(args.r_max),
                              "--child", "md", str(n), mode]
                             for n, steps in pairs for mode in args.modes])
        if args.run == "both":
            print()
        print(f"MACE MD (mace-torch {rows[0]['version']}, MACECalculator), r_max "
              f"{args.r_max} Å, VelocityVerlet {TIMESTEP_FS} fs, float64, CPU, 2 threads\n")
        print("| atoms | mode | steps | steps/s |")
        print("| ---: | --- | ---: | ---: |")
        for row in rows:
            print(f"| {row['atoms']} | {row['mode']} | {row['steps']} | "
                  f"{row['steps_per_s']:.2f} |")


if __name__ == "__main__":
    main()
