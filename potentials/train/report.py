"""What training leaves on disk for people: metrics CSV, learning curves, parity plots."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from ase.data import chemical_symbols

from potentials.atomic_write import open_atomically
from potentials.plotting import pyplot
from potentials.train.metrics import METRIC_UNITS, ErrorAccumulator


def write_history_csv(history: list[dict], path: Path) -> None:
    """One row per epoch with every recorded column (rewritten whole, atomically)."""
    if not history:
        return
    columns = list(dict.fromkeys(key for row in history for key in row))
    with open_atomically(path, "w") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)


def format_metrics(metrics: dict[str, float]) -> str:
    """``E RMSE 1.23 meV  F RMSE 4.56 meV/Å`` style one-liner of the main metrics."""
    short = {"energy_rmse_mev": "E RMSE", "energy_per_atom_rmse_mev": "E/atom RMSE",
             "forces_rmse_mev_per_angstrom": "F RMSE", "forces_mae_mev_per_angstrom": "F MAE",
             "stress_mae_mev_per_angstrom3": "S MAE"}
    return "  ".join(f"{label} {metrics[key]:.3g} {METRIC_UNITS[key]}"
                     for key, label in short.items() if key in metrics)


def plot_learning_curves(history: list[dict], path: Path) -> None:
    """Energy and force RMSE (train and validation) against epoch, log scale."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    epochs = [row["epoch"] for row in history]
    for axis, key in zip(axes, ["energy_rmse_mev", "forces_rmse_mev_per_angstrom"], strict=True):
        for split in ("train", "valid"):
            values = [row.get(f"{split}_{key}", np.nan) for row in history]
            axis.plot(epochs, values, label=split)
        axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_ylabel(f"{key.split('_')[0]} RMSE [{METRIC_UNITS[key]}]")
        axis.legend()
        axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def plot_parity(errors: ErrorAccumulator, title: str, path: Path) -> None:
    """Predicted vs reference energy per atom and force components."""
    plt = pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for axis, key in zip(axes, ("energy_per_atom", "forces"), strict=True):
        if not errors.predictions[key]:
            axis.set_visible(False)
            continue
        predicted = np.concatenate([t.numpy() for t in errors.predictions[key]])
        reference = np.concatenate([t.numpy() for t in errors.predictions[key + "_ref"]])
        if key == "forces":  # one colour per element
            label = "force component [eV/Å]"
            numbers = np.concatenate([t.numpy() for t in errors.predictions["forces_numbers"]])
            for number in np.unique(numbers):
                mine = numbers == number
                axis.scatter(reference[mine], predicted[mine], s=3, alpha=0.5,
                             label=chemical_symbols[number])
            axis.legend(markerscale=4, title="element")
        else:  # relative to the mean, in meV: absolute values of ~10^3 eV crowd the ticks
            offset_ev = float(reference.mean())
            predicted, reference = 1e3 * (predicted - offset_ev), 1e3 * (reference - offset_ev)
            label = f"energy per atom - ({offset_ev:.4f} eV) [meV]"
            axis.scatter(reference, predicted, s=3, alpha=0.5)
        low, high = min(reference.min(), predicted.min()), max(reference.max(), predicted.max())
        axis.plot([low, high], [low, high], color="black", linewidth=0.8)
        axis.set_xlabel(f"reference {label}")
        axis.set_ylabel(f"predicted {label}")
        axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
