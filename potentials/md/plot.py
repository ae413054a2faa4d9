"""The picture of an MD run that ``potentials md`` writes beside its trajectory."""

from __future__ import annotations

import os

import numpy as np

from potentials.md.observations import Observations
from potentials.md.options import MDOptions
from potentials.plotting import pyplot
from potentials.units import MEV_PER_EV


def plot_md_run(observations: Observations, options: MDOptions, n_atoms: int,
                path: str | os.PathLike, title: str) -> None:
    """Temperature [K] with its target; potential and total energy [meV/atom], each in its
    own panel, relative to the first total energy (the total's panel shows an NVE run's
    drift at its own scale); a committee's largest per-atom force disagreement [meV/Å] where
    recorded and, for npt, the cell volume [Å³]; all against time [ps]."""
    totals = np.array(observations.totals)
    times_ps = np.arange(len(totals)) * options.timestep_fs / 1000.0
    per_atom_mev = MEV_PER_EV / n_atoms
    panels = [
        ("temperature [K]", {"T": observations.temperatures}),
        ("E_pot − E_tot(0) [meV/atom]",
         {"potential": (np.array(observations.potentials) - totals[0]) * per_atom_mev}),
        ("E_tot − E_tot(0) [meV/atom]", {"total": (totals - totals[0]) * per_atom_mev}),
    ]
    if observations.spreads:
        panels.append(("largest σ_F [meV/Å]",
                       {"committee": MEV_PER_EV * np.array(observations.spreads)}))
    if options.ensemble == "npt":
        panels.append(("cell volume [Å³]", {"V": observations.volumes}))
    plt = pyplot()
    figure, axes = plt.subplots(len(panels), 1, figsize=(7, 2.2 * len(panels) + 0.6),
                                sharex=True, squeeze=False)
    for axis, (label, curves) in zip(axes[:, 0], panels, strict=True):
        for name, values in curves.items():
            axis.plot(times_ps, values, linewidth=0.8, label=name)
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        if len(curves) > 1:
            axis.legend(loc="best", fontsize="small")
    if options.ensemble != "nve":
        axes[0, 0].axhline(options.temperature_kelvin, color="black", linestyle="--",
                           linewidth=0.8, label="target")
        axes[0, 0].legend(loc="best", fontsize="small")
    axes[-1, 0].set_xlabel("time [ps]")
    axes[0, 0].set_title(title, fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
