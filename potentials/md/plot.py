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
    potential, total = observations.energies_mev_per_atom(n_atoms)
    panels = [("temperature [K]", observations.temperatures),
              ("E_pot − E_tot(0) [meV/atom]", potential),
              ("E_tot − E_tot(0) [meV/atom]", total)]
    if observations.spreads:
        panels.append(("largest σ_F [meV/Å]", MEV_PER_EV * np.array(observations.spreads)))
    if options.ensemble == "npt":
        panels.append(("cell volume [Å³]", observations.volumes))
    plt = pyplot()
    figure, axes = plt.subplots(len(panels), 1, figsize=(7, 2.2 * len(panels) + 0.6),
                                sharex=True, squeeze=False)
    times_ps = observations.times_ps(options.timestep_fs)
    for axis, (label, values) in zip(axes[:, 0], panels, strict=True):
        axis.plot(times_ps, values, linewidth=0.8, label="T" if axis is axes[0, 0] else None)
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    if options.ensemble != "nve":
        axes[0, 0].axhline(options.temperature_kelvin, color="black", linestyle="--",
                           linewidth=0.8, label="target")
        axes[0, 0].legend(loc="best", fontsize="small")
    axes[-1, 0].set_xlabel("time [ps]")
    axes[0, 0].set_title(title, fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
