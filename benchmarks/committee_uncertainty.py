"""How well a committee's disagreement tells where its predictions are wrong.

For each labelled data file, a committee model (float64, `EquiCalculator.evaluate`) gives
its prediction and its members' spread (``energy_uncertainty`` σ_E, ``forces_uncertainty``
σ_F per atom; `potentials.model.committee`). Printed per file, in meV and meV/Å:

- energy: RMSE of the committee's energy, RMS of σ_E, their ratio (spread / error; 1 would
  be calibrated, below 1 the spread underestimates the error), and the Spearman rank
  correlation between |error| and σ_E over frames;
- forces, per atom as 3-vectors: RMS of the error length |ΔF_i|, RMS of σ_F,i, their ratio,
  and the rank correlations between |ΔF_i| and σ_F,i over atoms, and between each frame's
  RMS error and RMS spread over frames;
- how many of the 10 % of frames with the largest force error are among the 10 % with the
  largest spread (10 % would be chance);
- the median and the largest over frames of each frame's largest σ_F,i, the number
  `potentials md` reports for every MD step, to compare an MD run against.

A log-log plot of each frame's RMS force spread against its RMS force error is written to
``--plot``.

Usage: ``python benchmarks/committee_uncertainty.py --model acac --data A.xyz [B.xyz]
[--plot committee_uncertainty.png]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from ase.io import read
from scipy.stats import spearmanr

from potentials import EquiCalculator
from potentials.units import MEV_PER_EV


def errors_and_spreads(model: str, frames: list) -> dict[str, np.ndarray]:
    """Per frame: energy error and σ_E [eV]; RMS force error length and RMS σ_F [eV/Å]; and
    per atom of all frames: force error length and σ_F [eV/Å]."""
    predictions = EquiCalculator(model=model, dtype="float64").evaluate(frames)
    if "energy_uncertainty" not in predictions[0]:
        raise SystemExit(f"{model} is a single model, not a committee: it has no spread")
    atom_errors = [np.linalg.norm(p["forces"] - f.get_forces(), axis=1)
                   for p, f in zip(predictions, frames, strict=True)]
    atom_spreads = [p["forces_uncertainty"] for p in predictions]
    return {
        "energy_error": np.array([p["energy"] - f.get_potential_energy()
                                  for p, f in zip(predictions, frames, strict=True)]),
        "energy_spread": np.array([p["energy_uncertainty"] for p in predictions]),
        "frame_force_error": np.array([np.sqrt(np.mean(e ** 2)) for e in atom_errors]),
        "frame_force_spread": np.array([np.sqrt(np.mean(s ** 2)) for s in atom_spreads]),
        "frame_largest_spread": np.array([s.max() for s in atom_spreads]),
        "atom_force_error": np.concatenate(atom_errors),
        "atom_force_spread": np.concatenate(atom_spreads),
    }


def rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values ** 2)))


def worst_found(errors: np.ndarray, spreads: np.ndarray, share: float = 0.1) -> tuple[int, int]:
    """How many of the ``share`` of frames with the largest error are also among the ``share``
    with the largest spread, and how many frames that share is."""
    count = max(1, int(round(share * len(errors))))
    worst = set(np.argsort(errors)[-count:].tolist())
    flagged = set(np.argsort(spreads)[-count:].tolist())
    return len(worst & flagged), count


def table_row(name: str, m: dict[str, np.ndarray]) -> str:
    e_rmse, e_spread = rms(m["energy_error"]), rms(m["energy_spread"])
    f_rmse, f_spread = rms(m["atom_force_error"]), rms(m["atom_force_spread"])
    found, count = worst_found(m["frame_force_error"], m["frame_force_spread"])
    cells = [
        f"{MEV_PER_EV * e_rmse:.2f}", f"{MEV_PER_EV * e_spread:.2f}", f"{e_spread / e_rmse:.2f}",
        f"{spearmanr(np.abs(m['energy_error']), m['energy_spread'])[0]:.2f}",
        f"{MEV_PER_EV * f_rmse:.1f}", f"{MEV_PER_EV * f_spread:.1f}", f"{f_spread / f_rmse:.2f}",
        f"{spearmanr(m['atom_force_error'], m['atom_force_spread'])[0]:.2f}",
        f"{spearmanr(m['frame_force_error'], m['frame_force_spread'])[0]:.2f}",
        f"{found} of {count}",
        f"{MEV_PER_EV * np.median(m['frame_largest_spread']):.1f}",
        f"{MEV_PER_EV * m['frame_largest_spread'].max():.1f}"]
    return f"| {name} | " + " | ".join(cells) + " |"


def plot(measured: dict[str, dict[str, np.ndarray]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    figure, axes = plt.subplots(figsize=(5.5, 5))
    for name, m in measured.items():
        axes.scatter(MEV_PER_EV * m["frame_force_error"], MEV_PER_EV * m["frame_force_spread"],
                     s=6, alpha=0.6, label=name)
    low, high = axes.get_xlim()
    axes.plot([low, high], [low, high], "k--", lw=0.8, label="spread = error")
    axes.set(xscale="log", yscale="log", xlabel="RMS force error per frame [meV/Å]",
             ylabel="RMS committee force spread σ_F per frame [meV/Å]")
    for axis in (axes.xaxis, axes.yaxis):  # plain numbers at 1, 2, 5 x 10^n, not 4x10^0
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_formatter(NullFormatter())
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=150)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a committee: shipped name or file")
    parser.add_argument("--data", nargs="+", required=True, help="labelled structure files")
    parser.add_argument("--plot", type=Path, default=Path("committee_uncertainty.png"))
    args = parser.parse_args()
    measured = {Path(path).name: errors_and_spreads(args.model, read(path, ":"))
                for path in args.data}
    print("| data | E RMSE | RMS σ_E | σ_E/RMSE | rank corr. | F error RMS | RMS σ_F | "
          "σ_F/error | rank corr. atoms | rank corr. frames | worst 10 % flagged | "
          "largest σ_F per frame: median | largest |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, m in measured.items():
        print(table_row(name, m))
    plot(measured, args.plot)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
