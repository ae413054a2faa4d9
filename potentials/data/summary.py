"""Statistics of an HDF5 trajectory file, as printed by ``potentials info``."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from ase.data import chemical_symbols

from potentials.data.reader import TrajectoryFile


@dataclass
class TrajectorySummary:
    """Counts and label statistics of one file; energies in eV, forces in eV/Å."""

    path: str
    trajectory_frames: dict[str, int]
    atom_counts: np.ndarray
    element_counts: dict[str, int]
    label_frames: dict[str, int]
    energies_ev: np.ndarray
    energies_per_atom_ev: np.ndarray
    force_rms_ev_per_angstrom: float | None
    force_max_ev_per_angstrom: float | None
    # element symbol -> RMS of its atoms' force components [eV/Å]
    force_rms_by_element_ev_per_angstrom: dict[str, float] = field(default_factory=dict)
    metadata_counts: dict[str, Counter] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames over all trajectories."""
        return int(sum(self.trajectory_frames.values()))


def summarise(path: str | os.PathLike[str]) -> TrajectorySummary:
    """Read ``path`` once, block by block, and gather its `TrajectorySummary`."""
    elements: Counter[int] = Counter()
    labels: Counter[str] = Counter()
    metadata: dict[str, Counter] = {"config_type": Counter(), "source_file": Counter()}
    energies, per_atom = [], []
    # per atomic number: sum of squared force components [eV²/Å²] and their count
    force_squares: Counter[int] = Counter()
    force_components: Counter[int] = Counter()
    force_max = 0.0
    with TrajectoryFile(path) as file:
        trajectory_frames = file.trajectory_lengths()
        atom_counts = file.frame_atom_counts()
        for frame in file.iter_frames():
            elements.update(frame.atomic_numbers.tolist())
            for name in ("config_type", "source_file"):
                if getattr(frame, name) is not None:
                    metadata[name][getattr(frame, name)] += 1
            if frame.energy_ev is not None:
                labels["energy"] += 1
                energies.append(frame.energy_ev)
                per_atom.append(frame.energy_ev / frame.n_atoms)
            if frame.forces_ev_per_angstrom is not None:
                labels["forces"] += 1
                forces = frame.forces_ev_per_angstrom
                for number in np.unique(frame.atomic_numbers).tolist():
                    mine = forces[frame.atomic_numbers == number]
                    force_squares[number] += float(np.sum(mine**2))
                    force_components[number] += mine.size
                force_max = max(force_max, float(np.linalg.norm(forces, axis=1).max()))
            labels["stress"] += frame.stress_ev_per_angstrom3 is not None
            labels["temperature"] += frame.temperature_kelvin is not None
            labels["velocities"] += frame.velocities_angstrom_per_fs is not None
    return TrajectorySummary(
        path=os.fspath(path),
        trajectory_frames=trajectory_frames,
        atom_counts=atom_counts,
        element_counts={chemical_symbols[z]: n for z, n in sorted(elements.items())},
        label_frames={name: labels[name] for name in ("energy", "forces", "stress",
                                                      "temperature", "velocities")},
        energies_ev=np.array(energies),
        energies_per_atom_ev=np.array(per_atom),
        force_rms_ev_per_angstrom=(np.sqrt(force_squares.total() / force_components.total())
                                   if force_components else None),
        force_max_ev_per_angstrom=force_max if force_components else None,
        force_rms_by_element_ev_per_angstrom={
            chemical_symbols[z]: float(np.sqrt(force_squares[z] / force_components[z]))
            for z in sorted(force_components)},
        metadata_counts={k: v for k, v in metadata.items() if v},
    )


def _statistics_line(name: str, values: np.ndarray, unit: str) -> str:
    return (f"  {name:<18} mean {values.mean(): .6g}  std {values.std():.6g}  "
            f"min {values.min(): .6g}  max {values.max(): .6g}  [{unit}]")


def format_summary(summary: TrajectorySummary, max_metadata_values: int = 10) -> str:
    """A human-readable report of ``summary``, with units."""
    counts, n = summary.atom_counts, summary.n_frames
    lines = [f"{summary.path}", f"frames: {n} in {len(summary.trajectory_frames)} "
             f"trajectories"]
    lines += [f"  {name}: {frames} frames" for name, frames in summary.trajectory_frames.items()]
    if n:
        lines.append(f"atoms: {int(counts.sum())} total, {int(counts.min())} to "
                     f"{int(counts.max())} per frame (mean {counts.mean():.4g})")
    lines.append("elements (atoms): " + ", ".join(
        f"{symbol} {count}" for symbol, count in summary.element_counts.items()))
    lines.append("labels (frames with it): " + ", ".join(
        f"{name} {count}/{n}" for name, count in summary.label_frames.items()))
    if len(summary.energies_ev):
        lines.append("energy:")
        lines.append(_statistics_line("total", summary.energies_ev, "eV"))
        lines.append(_statistics_line("per atom", summary.energies_per_atom_ev, "eV/atom"))
    if summary.force_rms_ev_per_angstrom is not None:
        by_element = ", ".join(f"{symbol} {rms:.4g}" for symbol, rms
                               in summary.force_rms_by_element_ev_per_angstrom.items())
        lines.append(f"forces: RMS component {summary.force_rms_ev_per_angstrom:.6g} eV/Å "
                     f"({by_element}), max |F| {summary.force_max_ev_per_angstrom:.6g} eV/Å")
    for name, values in summary.metadata_counts.items():
        common = values.most_common(max_metadata_values)
        more = len(values) - len(common)
        text = ", ".join(f"{value} {count}" for value, count in common)
        lines.append(f"{name} (frames): {text}" + (f", ... {more} more" if more else ""))
    return "\n".join(lines)
