"""Training throughput on acetylacetone: frames/s and atoms/s per batch size and dtype.

One optimisation step = forward, forces by autograd with a differentiable graph, the weighted
loss, backward through the force graph, and the optimiser step (as in `potentials train`).
With ``--compile`` the energy and forces come from the compiled function that
``potentials train`` uses with ``compile: true``; its compilation happens in the warm-up
steps and is not timed (it is printed).

Usage: ``python benchmarks/train_speed.py [--data FILE] [--config TRAIN.yaml] [--batch-sizes 1 2
4 8 16 32] [--compile]`` (threads: ``OMP_NUM_THREADS``); ``--config`` takes the architecture
from a training config's ``model:`` section, the default is `ModelConfig()`.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import ase.io
import torch

from potentials.data.statistics import compute_statistics
from potentials.graph import batch_graphs, from_atoms
from potentials.memory import keep_freed_memory
from potentials.model import EquivariantPotential, ModelConfig, predict
from potentials.model.compiled import CompiledPredictor
from potentials.train.config import OptimConfig, load_config
from potentials.train.loss import LossWeights, weighted_loss
from potentials.train.schedule import build_optimizer

DEFAULT_DATA = "../shared/data/acac/train_300K.xyz"


def throughput(frames: list, batch_size: int, dtype: torch.dtype, config: ModelConfig,
               budget_s: float, compile_step: bool = False) -> tuple[float, float]:
    """(frames/s, atoms/s) of training steps on ``frames``."""
    graphs = [from_atoms(a, config.cutoff_angstrom, with_labels=True, dtype=dtype)
              for a in frames]
    torch.manual_seed(0)
    model = EquivariantPotential(config, compute_statistics(graphs)).to(dtype)
    optimizer = build_optimizer(model, OptimConfig(optimizer="adam", lr=1e-3))
    weights = LossWeights(1.0, 100.0, 0.0)
    compiled = CompiledPredictor(model) if compile_step else None
    warm_up_start = time.perf_counter()
    done_frames = done_atoms = 0
    step, start = 0, None
    while start is None or time.perf_counter() - start < budget_s:
        chunk = [graphs[(step * batch_size + k) % len(graphs)] for k in range(batch_size)]
        batch = batch_graphs(chunk)
        optimizer.zero_grad()
        if compiled is not None:
            predicted = compiled(batch, compute_stress=False)
        else:
            predicted = predict(model, batch, training=True)
        loss = weighted_loss(predicted, batch, weights)
        loss.backward()
        optimizer.step()
        step += 1
        if step == 2:  # two warm-up steps
            start = time.perf_counter()
            if compiled is not None:
                print(f"compilation and warm-up: {start - warm_up_start:.0f} s", flush=True)
        elif step > 2:
            done_frames += batch_size
            done_atoms += int(batch.pos.shape[0])
    elapsed = time.perf_counter() - start
    return done_frames / elapsed, done_atoms / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--config", help="training config (YAML) whose model architecture to time")
    parser.add_argument("--channels", type=int, help="number of channels (overrides --config)")
    parser.add_argument("--budget-s", type=float, default=10.0)
    parser.add_argument("--compile", action="store_true", help="time the compiled step")
    args = parser.parse_args()
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
            rate, atom_rate = throughput(frames, batch_size, getattr(torch, dtype), config,
                                         args.budget_s, args.compile)
            print(f"| {dtype} | {batch_size} | {rate:.1f} | {atom_rate:.0f} |", flush=True)


if __name__ == "__main__":
    main()
