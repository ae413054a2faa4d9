"""A tiny training set written with plain h5py exactly as docs/hdf5-format.md describes."""

from __future__ import annotations

from pathlib import Path

import ase.io
import h5py
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

FIXTURES = Path(__file__).parent.parent / "fixtures"


def write_plain_h5py(path: Path, frames: list[ase.Atoms]) -> None:
    """Write ``frames`` with h5py only, following the layout in docs/hdf5-format.md."""
    counts = [len(a) for a in frames]
    with h5py.File(path, "w") as file:
        file.attrs["format"] = "potentials-trajectory"
        file.attrs["format_version"] = 1
        group = file.create_group("trajectories").create_group("acac")
        group["frame_offsets"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        group["atomic_numbers"] = np.concatenate([a.numbers for a in frames]).astype(np.int32)
        per_atom = {"positions": ([a.positions for a in frames], "Angstrom"),
                    "forces": ([a.get_forces() for a in frames], "eV/Angstrom")}
        for name, (arrays, unit) in per_atom.items():
            group[name] = np.concatenate(arrays)
            group[name].attrs["unit"] = unit
        group["cell"] = np.stack([a.cell.array for a in frames])
        group["cell"].attrs["unit"] = "Angstrom"
        group["pbc"] = np.stack([a.pbc for a in frames])
        group["energy"] = np.array([a.get_potential_energy() for a in frames])
        group["energy"].attrs["unit"] = "eV"
        group["stress"] = np.zeros((len(frames), 3, 3))
        group["stress"].attrs["unit"] = "eV/Angstrom^3"
        group["has_energy"] = np.ones(len(frames), dtype=bool)
        group["has_forces"] = np.ones(len(frames), dtype=bool)
        group["has_stress"] = np.zeros(len(frames), dtype=bool)


def rattled_copies(base: list[ase.Atoms], count: int, seed: int = 0) -> list[ase.Atoms]:
    """``count`` frames cycling through ``base``, positions rattled by 0.02 Å, labels kept."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(count):
        source = base[k % len(base)]
        atoms = source.copy()
        atoms.positions += rng.normal(0, 0.02, atoms.positions.shape)
        atoms.calc = SinglePointCalculator(atoms, energy=source.get_potential_energy(),
                                           forces=source.get_forces())
        frames.append(atoms)
    return frames


@pytest.fixture
def acac_h5(tmp_path: Path) -> Path:
    """20 acetylacetone frames (the 5 shipped ones, rattled) as a plain-h5py HDF5 file."""
    path = tmp_path / "acac.h5"
    write_plain_h5py(path, rattled_copies(ase.io.read(FIXTURES / "acac_5.xyz", ":"), 20))
    return path


@pytest.fixture
def mixed_h5(tmp_path: Path) -> Path:
    """20 frames alternating acetylacetone (15 atoms) and ethanol (9 atoms)."""
    acac = ase.io.read(FIXTURES / "acac_5.xyz", ":")
    ethanol = ase.io.read(FIXTURES / "ethanol_5.xyz", ":")
    path = tmp_path / "mixed.h5"
    write_plain_h5py(path, rattled_copies([m for pair in zip(acac, ethanol, strict=True)
                                           for m in pair], 20))
    return path


def tiny_config(path: Path, output: Path, **changes) -> dict:
    """Settings of a seconds-long training run on ``path``."""
    config = {
        "name": "tiny", "output_dir": str(output), "seed": 3,
        "model": {"cutoff_angstrom": 4.0, "num_channels": 4, "radial_hidden": [8],
                  "l_max_edge": 2},
        "data": {"train_files": [str(path)], "valid_fraction": 0.2,
                 "cache_dir": str(output / "cache")},
        "optim": {"batch_size": 4, "max_epochs": 4, "lr": 0.01},
    }
    for dotted, value in changes.items():
        section, key = dotted.split(".") if "." in dotted else (None, dotted)
        (config[section] if section else config)[key] = value
    return config
