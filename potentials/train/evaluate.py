"""``potentials evaluate``: error metrics of a model on labelled data files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ase.data import chemical_symbols
from tqdm import tqdm

from potentials.data.convert import ReadOptions
from potentials.data.dataset import GraphDataset
from potentials.data.reader import TrajectoryFile
from potentials.device import resolve_device, resolve_dtype
from potentials.graph import AtomicGraph, batch_graphs
from potentials.memory import keep_freed_memory
from potentials.model.committee import predict_members_in_turn
from potentials.model.registry import load_named_model
from potentials.text_table import fixed_width_table
from potentials.train.data_setup import ensure_hdf5
from potentials.train.metrics import METRIC_UNITS, ErrorAccumulator
from potentials.train.report import plot_parity
from potentials.units import MEV_PER_EV

NO_CONFIG_TYPE = "(none)"
"""How frames without a ``config_type`` are listed among those with one."""


@dataclass
class Evaluation:
    """Metrics (names and units in `METRIC_UNITS`) and accumulated errors of one data file,
    and each frame's errors: |ΔE| per atom [meV/atom] and the largest per-atom force error
    length |ΔF| [meV/Å], NaN where the frame has no such label. ``config_type_metrics``:
    config_type -> (frames, metrics) in the file's order of first appearance, empty unless
    the frames have more than one (frames without one count as one more)."""

    path: str
    n_frames: int
    metrics: dict[str, float]
    errors: ErrorAccumulator
    frame_energy_errors_mev_per_atom: np.ndarray
    frame_max_force_errors_mev_per_angstrom: np.ndarray
    config_type_metrics: dict[str, tuple[int, dict[str, float]]]


def frame_errors(predicted: dict[str, torch.Tensor], graph: AtomicGraph
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per structure of ``graph``: |ΔE| per atom [meV/atom] and the largest per-atom force
    error length [meV/Å], NaN where the structure has no such label."""
    n_atoms = torch.bincount(graph.structure_index, minlength=graph.n_structures)
    energy = ((predicted["energy"] - graph.energy).abs() / n_atoms).double()
    energy[~graph.has_energy.bool()] = float("nan")
    lengths = torch.linalg.vector_norm(predicted["forces"] - graph.forces, dim=1).double()
    largest = torch.zeros(graph.n_structures, dtype=torch.float64, device=lengths.device)
    largest = largest.scatter_reduce(0, graph.structure_index, lengths, reduce="amax")
    largest[~graph.has_forces.bool()] = float("nan")
    return (MEV_PER_EV * energy.detach().cpu().numpy(),
            MEV_PER_EV * largest.detach().cpu().numpy())


def evaluate_model(model: str, paths: list[str], batch_size: int = 16, dtype: str = "float64",
                   device: str = "auto", cache_dir: str = "~/.cache/potentials/converted",
                   progress: bool = True, options: ReadOptions | None = None
                   ) -> list[Evaluation]:
    """Energy, force and stress errors of ``model`` (name or file) on each data file.

    ``options`` names the label keys of inputs that are not HDF5 trajectories (default: the
    calculator results, then ``info``/``arrays``, under the standard names).
    """
    if batch_size < 1:
        raise ValueError(f"the batch size must be >= 1 frame, got {batch_size}")
    options = options or ReadOptions()
    keep_freed_memory()
    torch_device, torch_dtype = resolve_device(device), resolve_dtype(dtype)
    potential = load_named_model(model, dtype=torch_dtype, device=torch_device)
    return [_evaluate_file(potential, path, ensure_hdf5(path, options, cache_dir), batch_size,
                           torch_dtype, torch_device, progress) for path in paths]


def _evaluate_file(potential: torch.nn.Module, path: str, hdf5_path: str, batch_size: int,
                   dtype: torch.dtype, device: torch.device, progress: bool) -> Evaluation:
    """The `Evaluation` of ``path`` (read from ``hdf5_path``, itself or its conversion),
    batching the frames of each config_type together."""
    dataset = GraphDataset([hdf5_path], potential.cutoff_angstrom, dtype)
    with TrajectoryFile(hdf5_path) as file:
        config_types = [t or NO_CONFIG_TYPE for t in file.config_types()]
    groups: dict[str, list[int]] = {}
    for index, config_type in enumerate(config_types):
        groups.setdefault(config_type, []).append(index)
    errors = ErrorAccumulator(keep_predictions=True, by_element=True)
    per_type = {config_type: ErrorAccumulator() for config_type in groups}
    energy_errors = np.full(len(dataset), np.nan)
    force_errors = np.full(len(dataset), np.nan)
    with tqdm(total=len(dataset), desc=Path(path).name, disable=not progress,
              leave=False) as bar:
        for config_type, indices in groups.items():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start:start + batch_size]
                batch = batch_graphs([dataset[k] for k in chunk]).to(device)
                output = predict_members_in_turn(potential, batch,
                                                 compute_stress=bool(batch.has_stress.any()))
                detached = {k: v.detach() for k, v in output.items()}
                errors.add(detached, batch)
                per_type[config_type].add(detached, batch)
                energy_errors[chunk], force_errors[chunk] = frame_errors(output, batch)
                bar.update(len(chunk))
    metrics = errors.summary()
    if not metrics:
        raise ValueError(
            f"{path}: none of its {len(dataset)} frames has an energy, forces or stress "
            f"label under the names read; for extended XYZ and other ASE input, name them "
            f"with --energy-key, --forces-key or --stress-key")
    by_type = {config_type: (len(groups[config_type]), accumulator.summary())
               for config_type, accumulator in per_type.items()} if len(groups) > 1 else {}
    return Evaluation(path, len(dataset), metrics, errors, energy_errors, force_errors,
                      by_type)


def worst_frames_table(evaluations: list[Evaluation], count: int) -> str:
    """The ``count`` frames, over all files, with the largest per-atom force error (frames
    without forces ranked by energy error after them); frames numbered from 0 in each file."""
    rows = []
    for evaluation in evaluations:
        for index, (energy, force) in enumerate(zip(
                evaluation.frame_energy_errors_mev_per_atom,
                evaluation.frame_max_force_errors_mev_per_angstrom, strict=True)):
            rows.append((Path(evaluation.path).name, index, energy, force))
    rows.sort(key=lambda row: (np.isnan(row[3]), -np.nan_to_num(row[3]),
                               -np.nan_to_num(row[2])))
    header = ["file", "frame", "|ΔE| [meV/atom]", "largest |ΔF| [meV/Å]"]
    cells = [[name, str(index), "-" if np.isnan(energy) else f"{energy:.3f}",
              "-" if np.isnan(force) else f"{force:.1f}"]
             for name, index, energy, force in rows[:count]]
    return fixed_width_table([header, *cells], align_right=True)


def format_table(evaluations: list[Evaluation]) -> str:
    """A fixed-width table: one row per file, MAE/RMSE columns with units."""
    return _metrics_table(["file"], [([Path(e.path).name], e.n_frames, e.metrics)
                                     for e in evaluations])


def config_type_table(evaluations: list[Evaluation]) -> str:
    """The same columns per file and config_type; empty if no file has several."""
    rows = [([Path(e.path).name, config_type], n_frames, metrics)
            for e in evaluations for config_type, (n_frames, metrics)
            in e.config_type_metrics.items()]
    return _metrics_table(["file", "config_type"], rows) if rows else ""


def _metrics_table(label_headers: list[str],
                   rows: list[tuple[list[str], int, dict[str, float]]]) -> str:
    """Rows of (labels, frames, metrics) as a fixed-width table with every metric any row
    has, in `METRIC_UNITS` order, with units; "-" where a row lacks one."""
    keys = [k for k in METRIC_UNITS if any(k in metrics for _, _, metrics in rows)]
    headers = [*label_headers, "frames"] + [f"{k.rsplit('_mev', 1)[0]} [{METRIC_UNITS[k]}]"
                                            for k in keys]
    cells = [[*labels, str(n_frames)] +
             [f"{metrics[k]:.3f}" if k in metrics else "-" for k in keys]
             for labels, n_frames, metrics in rows]
    return fixed_width_table([headers, *cells], align_right=True)


def element_table(evaluations: list[Evaluation]) -> str:
    """A fixed-width table of force errors per file and element: atoms with force labels,
    MAE and RMSE over their components in meV/Å. Empty if no file has forces."""
    header = ["file", "element", "atoms", "forces_mae [meV/Å]", "forces_rmse [meV/Å]"]
    rows = [[Path(e.path).name, chemical_symbols[number], str(element["atoms"]),
             f"{element['forces_mae_mev_per_angstrom']:.3f}",
             f"{element['forces_rmse_mev_per_angstrom']:.3f}"]
            for e in evaluations for number, element in e.errors.summary_by_element().items()]
    return fixed_width_table([header, *rows], align_right=True) if rows else ""


def evaluations_record(evaluations: list[Evaluation], model: str) -> dict:
    """Every metric of ``evaluations`` as plain data for JSON: per file (in the order
    given) its frames and metrics (names with units, `METRIC_UNITS`), per config_type and,
    for forces, per element symbol."""
    return {"model": model, "files": [{
        "path": e.path, "frames": e.n_frames, "metrics": e.metrics,
        "config_types": {config_type: {"frames": n_frames, "metrics": metrics}
                         for config_type, (n_frames, metrics) in e.config_type_metrics.items()},
        "elements": {chemical_symbols[number]: element
                     for number, element in e.errors.summary_by_element().items()},
    } for e in evaluations]}


def parity_plot_path(directory: str, data_path: str) -> Path:
    """Where the parity plot of ``data_path`` goes: ``directory/parity_STEM.png``."""
    return Path(directory) / f"parity_{Path(data_path).stem}.png"


def save_parity_plots(evaluations: list[Evaluation], directory: str) -> list[Path]:
    """One parity plot per file into ``directory`` (see `parity_plot_path`); returns the paths."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    paths = []
    for evaluation in evaluations:
        path = parity_plot_path(directory, evaluation.path)
        plot_parity(evaluation.errors, Path(evaluation.path).name, path)
        paths.append(path)
    return paths
