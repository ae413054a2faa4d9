"""How a recipe's validation error falls with its training time, and what time a target needs.

Each run is one model (or committee file) trained with a schedule that ends annealed at its
own budget (``--set optim.scheduler=cosine_time --set optim.max_time=...``), given as
``HOURS=MODEL``. Every model is evaluated in float64 on ``--data``; for each metric a power
law ``error = a * hours**(-b)`` is fitted twice, by least squares in log-log space over all
budgets and through the two largest budgets only, and the hours at which each reaches
``--target`` are printed. Both are extrapolations. Where returns diminish (the exponent falls
with the budget) the fit over all budgets is the more optimistic one, and even the fit
through the last two overestimates what more time buys if the exponent keeps falling.

Usage::

    python benchmarks/time_scaling.py --data acac_valid.xyz \
        --runs 0.75=runs/scale_45m_committee.model 1.5=runs/scale_1h30m_committee.model \
               2.73=acac --target forces_rmse_mev_per_angstrom=5.1 energy_rmse_mev=0.9 \
        --plot acac_time_scaling.png
"""

from __future__ import annotations

import argparse

import numpy as np

from potentials.train.evaluate import evaluate_model
from potentials.train.metrics import METRIC_UNITS


def parse_pairs(texts: list[str], form: str, key_type: type, value_type: type) -> list[tuple]:
    """``KEY=VALUE`` strings -> [(key_type(KEY), value_type(VALUE))], naming the offending
    text and the expected ``form`` (e.g. "HOURS=MODEL") if one is malformed."""
    pairs = []
    for text in texts:
        key, sep, value = text.partition("=")
        try:
            if not sep or not key or not value:
                raise ValueError
            pairs.append((key_type(key), value_type(value)))
        except ValueError:
            raise SystemExit(f"expected {form}, got {text!r}") from None
    return pairs


def fit_power_law(hours: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """(a, b) of ``errors ≈ a * hours**(-b)``, least squares on the logarithms."""
    slope, intercept = np.polyfit(np.log(hours), np.log(errors), 1)
    return float(np.exp(intercept)), float(-slope)


def hours_to_reach(a: float, b: float, target: float) -> float:
    """Training hours at which ``a * hours**(-b)`` equals ``target`` (inf if it never falls)."""
    return float((a / target) ** (1.0 / b)) if b > 0 else float("inf")


Fits = dict[str, dict[str, tuple[float, float]]]
"""Fit name -> metric -> (a, b) of ``a * hours**(-b)``."""


def plot(hours: np.ndarray, table: dict[str, np.ndarray], fits: Fits,
         targets: dict[str, float], path: str) -> None:
    """Log-log error against training time, one panel per metric with a target (or the energy
    and force RMSE), fit and target drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    shown = list(targets) or ["energy_rmse_mev", "forces_rmse_mev_per_angstrom"]
    figure, axes = plt.subplots(1, len(shown), figsize=(4.5 * len(shown), 3.8), squeeze=False)
    for axis, metric in zip(axes[0], shown, strict=True):
        reach = max(hours_to_reach(*by_metric[metric], targets.get(metric, np.inf))
                    for by_metric in fits.values())
        grid = np.geomspace(hours.min(), max(hours.max(), min(reach, 100.0)) * 1.2, 100)
        axis.loglog(hours, table[metric], "o", color="k", label="measured")
        for name, by_metric in fits.items():
            a, b = by_metric[metric]
            axis.loglog(grid, a * grid ** (-b), "-", label=f"{name}: hours^-{b:.2f}")
        if metric in targets:
            axis.axhline(targets[metric], color="k", ls="--", lw=1, label="target")
        axis.set_xticks([*hours, *(t for t in (5, 10, 20, 50) if t < grid[-1])])
        axis.xaxis.set_major_formatter(ScalarFormatter())
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.yaxis.set_major_formatter(ScalarFormatter())
        axis.yaxis.set_minor_formatter(ScalarFormatter())
        axis.set_xlabel("training wall time [h]")
        axis.set_ylabel(f"{metric.rsplit('_mev', 1)[0]} [{METRIC_UNITS[metric]}]")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="labelled validation file")
    parser.add_argument("--runs", nargs="+", required=True,
                        help="HOURS=MODEL, at least two budgets")
    parser.add_argument("--target", nargs="*", default=[], help="METRIC=VALUE (meV, meV/Å)")
    parser.add_argument("--plot", help="write a log-log plot to this PNG")
    args = parser.parse_args()
    runs = sorted(parse_pairs(args.runs, "HOURS=MODEL", float, str))
    targets = dict(parse_pairs(args.target, "METRIC=VALUE", str, float))
    unknown = sorted(set(targets) - set(METRIC_UNITS))
    if unknown:
        raise SystemExit(f"unknown metric {unknown[0]!r}; one of {sorted(METRIC_UNITS)}")
    hours = np.array([h for h, _ in runs])
    if len(hours) < 2 or np.any(np.diff(hours) <= 0):
        raise SystemExit(f"a power law needs one run per budget, at least two budgets; "
                         f"got budgets {hours.tolist()} h")
    metrics = [evaluate_model(model, [args.data])[0].metrics for _, model in runs]
    table = {k: np.array([m[k] for m in metrics]) for k in METRIC_UNITS if k in metrics[0]}
    fits = {"all budgets": {k: fit_power_law(hours, e) for k, e in table.items()},
            "last two": {k: fit_power_law(hours[-2:], e[-2:]) for k, e in table.items()}}
    print("| metric | " + " | ".join(f"{h:g} h" for h in hours) + " | target | "
          + " | ".join(f"b, hours to target ({name})" for name in fits) + " |")
    print("|---|" + "---|" * (len(hours) + 1 + len(fits)))
    for metric, errors in table.items():
        target = targets.get(metric)
        cells = [f"{e:.2f}" for e in errors] + ["" if target is None else f"{target:g}"]
        for by_metric in fits.values():
            a, b = by_metric[metric]
            reach = "" if target is None else f", {hours_to_reach(a, b, target):.1f}"
            cells.append(f"{b:.3f}{reach}")
        print(f"| {metric} [{METRIC_UNITS[metric]}] | " + " | ".join(cells) + " |")
    if args.plot:
        plot(hours, table, fits, targets, args.plot)


if __name__ == "__main__":
    main()
