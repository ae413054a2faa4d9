"""Conversion and reading throughput of HDF5 trajectories, in frames per second.

Builds ``--frames`` (default 10,000) acetylacetone frames (15 atoms) by replicating the five
frames of ``tests/fixtures/acac_5.xyz`` with Gaussian noise on positions (0.01 Å), forces and
energies, then times: extxyz -> HDF5 conversion (``potentials.data.convert``, which includes
ASE's parsing), writing in-memory frames with each compression, sequential and random-access
reading, `GraphDataset` items (with the 5 Å neighbour list) and a `DataLoader` over it, and
HDF5 -> extxyz. Everything happens in a temporary directory.

Usage: ``python benchmarks/data_throughput.py [--frames 10000]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import ase.io
import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
from torch.utils.data import DataLoader

from potentials.data import TrajectoryFile, TrajectoryWriter, read_ase_frames
from potentials.data.convert import convert
from potentials.data.dataset import GraphDataset
from potentials.graph import batch_graphs

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "acac_5.xyz"


def noisy_copies(n_frames: int, seed: int = 0) -> list[ase.Atoms]:
    """``n_frames`` frames: the fixture's frames in turn, each with fresh noise."""
    rng = np.random.default_rng(seed)
    originals = ase.io.read(FIXTURE, index=":")
    frames = []
    for k in range(n_frames):
        original = originals[k % len(originals)]
        atoms = original.copy()
        atoms.positions += rng.normal(0, 0.01, atoms.positions.shape)
        atoms.calc = SinglePointCalculator(
            atoms, energy=original.get_potential_energy() + rng.normal(0, 0.01),
            forces=original.get_forces() + rng.normal(0, 0.05, atoms.positions.shape))
        frames.append(atoms)
    return frames


def timed(function: Callable[[], int]) -> tuple[float, int]:
    """(seconds, frames processed) of one call."""
    start = time.perf_counter()
    count = function()
    return time.perf_counter() - start, count


def report(name: str, seconds: float, frames: int, note: str = "") -> None:
    print(f"| {name} | {frames} | {seconds:.2f} | {frames / seconds:,.0f} | {note} |",
          flush=True)


def writing(directory: Path, xyz: Path, frames: list) -> Path:
    seconds, count = timed(lambda: convert([xyz], directory / "converted.h5"))
    report("extxyz -> HDF5 (`convert`, incl. ASE parsing)", seconds, count)
    in_memory = list(read_ase_frames(xyz))
    for compression in ("gzip", "lzf", None):
        path = directory / f"{compression}.h5"

        def write(path: Path = path, compression: str | None = compression) -> int:
            with TrajectoryWriter(path, compression=compression) as writer:
                return writer.add_trajectory("acac", in_memory)

        seconds, count = timed(write)
        size_mb = path.stat().st_size / 1e6
        report(f"write in-memory frames, {compression}", seconds, count, f"{size_mb:.1f} MB")
    return directory / "converted.h5"


def reading(path: Path, directory: Path, n_frames: int) -> None:
    order = np.random.default_rng(1).permutation(n_frames)
    with TrajectoryFile(path) as trajectory:
        report("read all frames in order (`iter_frames`)", *timed(
            lambda: sum(1 for _ in trajectory.iter_frames())))
        report("random access `read_frame(i)`", *timed(
            lambda: sum(1 for i in order if trajectory.read_frame(int(i)))))
        report("random access `trajectory[i]` -> ase.Atoms", *timed(
            lambda: sum(1 for i in order if len(trajectory[int(i)]))))
    dataset = GraphDataset(path, cutoff_angstrom=5.0)
    report("`GraphDataset[i]`, random, cutoff 5 Å", *timed(
        lambda: sum(1 for i in order if dataset[int(i)].num_nodes)))
    for workers in (0, 2):
        loader = DataLoader(dataset, batch_size=32, shuffle=True, num_workers=workers,
                            collate_fn=batch_graphs)
        report(f"`DataLoader`, batch 32, {workers} workers", *timed(
            lambda loader=loader: sum(batch.n_structures for batch in loader)))
    report("HDF5 -> extxyz (`convert`)", *timed(
        lambda: convert([path], directory / "back.xyz")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        frames = noisy_copies(args.frames)
        xyz = directory / "acac.xyz"
        ase.io.write(xyz, frames, format="extxyz")
        print(f"{args.frames} frames of acetylacetone (15 atoms); extxyz input "
              f"{xyz.stat().st_size / 1e6:.1f} MB")
        print("| operation | frames | seconds | frames/s | note |")
        print("|---|---|---|---|---|")
        path = writing(directory, xyz, frames)
        reading(path, directory, args.frames)


if __name__ == "__main__":
    main()
