"""Training throughput on acetylacetone: frames/s and atoms/s per batch size and dtype.

One optimisation step = forward, forces by autograd with a differentiable graph, the weighted
loss, backward through the force graph, and the optimiser step (as in `potentials train`).
With ``--compile`` the energy and forces come from the compiled function that
``potentials train`` uses with ``compile: true``; its compilation happens in the warm-up
steps and is not timed (it is printed).

Usage: ``python benchmarks/train_speed.py [--data FILE] [--config TRAIN.yaml] [--batch-sizes 1 2
4 8 16 32] [--compile] [--profile STEPS]`` (threads: ``OMP_NUM_THREADS``); ``--config`` takes
the architecture from a training config's ``model:`` section, the default is `ModelConfig()`.
``--profile STEPS`` then profiles that many more steps of each setting with `torch.profiler`
and prints where a step's time goes: matrix products, the compiler's fused loops, the
optimiser, the rest, and the costliest operators with their input shapes (with
``--name-kernels``, each fused loop by name).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import ase.io
import torch
from torch.profiler import ProfilerActivity, profile

from potentials.data.statistics import compute_statistics
from potentials.graph import batch_graphs, from_atoms
from potentials.memory import keep_freed_memory
from potentials.model import EquivariantPotential, ModelConfig, predict
from potentials.model.compiled import CompiledPredictor
from potentials.train.config import OptimConfig, load_config
from potentials.train.loss import LossWeights, weighted_loss
from potentials.train.schedule import build_optimizer

DEFAULT_DATA = "../shared/data/acac/train_300K.xyz"


class TrainingSteps:
    """Optimisation steps of a fresh model on ``frames``, cycling through them in batches."""

    def __init__(self, frames: list, batch_size: int, dtype: torch.dtype, config: ModelConfig,
                 compile_step: bool):
        self.graphs = [from_atoms(a, config.cutoff_angstrom, with_labels=True, dtype=dtype)
                       for a in frames]
        self.batch_size = batch_size
        torch.manual_seed(0)
        self.model = EquivariantPotential(config, compute_statistics(self.graphs)).to(dtype)
        self.optimizer = build_optimizer(self.model, OptimConfig(optimizer="adam", lr=1e-3))
        self.weights = LossWeights(1.0, 100.0, 0.0)
        self.compiled = CompiledPredictor(self.model) if compile_step else None
        self.steps_done = 0

    def step(self) -> int:
        """One optimisation step; returns the number of atoms in its batch."""
        first = self.steps_done * self.batch_size
        batch = batch_graphs([self.graphs[(first + k) % len(self.graphs)]
                              for k in range(self.batch_size)])
        self.optimizer.zero_grad()
        if self.compiled is not None:
            predicted = self.compiled(batch, compute_stress=False)
        else:
            predicted = predict(self.model, batch, training=True)
        weighted_loss(predicted, batch, self.weights).backward()
        self.optimizer.step()
        self.steps_done += 1
        return int(batch.pos.shape[0])


def throughput(steps: TrainingSteps, budget_s: float) -> tuple[float, float]:
    """(frames/s, atoms/s) of training steps, after two untimed warm-up steps."""
    warm_up_start = time.perf_counter()
    steps.step()
    steps.step()
    start = time.perf_counter()
    if steps.compiled is not None:
        print(f"compilation and warm-up: {start - warm_up_start:.0f} s", flush=True)
    done_frames = done_atoms = 0
    while time.perf_counter() - start < budget_s:
        done_atoms += steps.step()
        done_frames += steps.batch_size
    elapsed = time.perf_counter() - start
    return done_frames / elapsed, done_atoms / elapsed


def _category(name: str) -> str:
    """The part of a training step that the profiler event ``name`` belongs to."""
    if name in ("aten::mm", "aten::bmm", "aten::addmm", "aten::baddbmm"):
        return "matrix products (aten::mm, bmm, addmm)"
    if name.startswith("graph_") or "CompiledFxGraph" in name:
        return "compiled fused loops"
    if name.startswith("Optimizer."):
        return "optimiser step"
    return "everything else"


def print_profile(steps: TrainingSteps, n_steps: int, n_operators: int = 15) -> None:
    """Profile ``n_steps`` steps; print ms per step by category and the costliest operators.

    Self times are summed, so nothing is counted twice. With the compiled step the fused
    loops are one entry per compiled graph unless the compiler names its kernels
    (``--name-kernels``).
    """
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as profiler:
        for _ in range(n_steps):
            steps.step()
    events = profiler.key_averages(group_by_input_shape=True)
    per_step_ms = {event: event.self_cpu_time_total / 1000 / n_steps for event in events}
    total_ms = sum(per_step_ms.values())
    categories: dict[str, float] = {}
    for event, ms in per_step_ms.items():
        categories[_category(event.key)] = categories.get(_category(event.key), 0.0) + ms
    print(f"profile of {n_steps} steps: {total_ms:.1f} ms per step (self times)")
    print("| part | ms per step | share |\n|---|---|---|")
    for name, ms in sorted(categories.items(), key=lambda item: -item[1]):
        print(f"| {name} | {ms:.1f} | {ms / total_ms:.0%} |")
    print("\n| operator | input shapes | calls per step | ms per step |\n|---|---|---|---|")
    for event in sorted(events, key=lambda e: -per_step_ms[e])[:n_operators]:
        print(f"| {event.key[:60]} | {event.input_shapes} | {event.count / n_steps:.1f} "
              f"| {per_step_ms[event]:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--config", help="training config (YAML) whose model architecture to time")
    parser.add_argument("--channels", type=int, help="number of channels (overrides --config)")
    parser.add_argument("--budget-s", type=float, default=10.0)
    parser.add_argument("--compile", action="store_true", help="time the compiled step")
    parser.add_argument("--profile", type=int, metavar="STEPS",
                        help="then profile this many steps and print where the time goes")
    parser.add_argument("--name-kernels", action="store_true",
                        help="with --compile: name each fused loop in the profile (inductor's "
                             "cpp.enable_kernel_profile; compiles anew)")
    args = parser.parse_args()
    if args.profile is not None and args.profile < 1:
        parser.error(f"--profile {args.profile}: expected a number of steps >= 1")
    if args.name_kernels:
        torch._inductor.config.cpp.enable_kernel_profile = True
    keep_freed_memory()  # as the Trainer does
    frames = ase.io.read(args.data, ":64")
    config = load_config(args.config).model if args.config else ModelConfig()
    if args.channels:
        config = dataclasses.replace(config, num_channels=args.channels)
    print(f"model: {config}; {torch.get_num_threads()} thread(s), "
          f"{'compiled' if args.compile else 'eager'}")
    print("| dtype | batch size | frames/s | atoms/s |")
    print("|---|---|---|---|")
    for dtype in args.dtypes:
        for batch_size in args.batch_sizes:
            steps = TrainingSteps(frames, batch_size, getattr(torch, dtype), config, args.compile)
            rate, atom_rate = throughput(steps, args.budget_s)
            print(f"| {dtype} | {batch_size} | {rate:.1f} | {atom_rate:.0f} |", flush=True)
            if args.profile:
                print_profile(steps, args.profile)


if __name__ == "__main__":
    main()
