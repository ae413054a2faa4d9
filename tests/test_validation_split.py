"""benchmarks/validation_split.py writes the frames of the training run's own split."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import yaml

from potentials.train.data_setup import split_indices

ROOT = Path(__file__).parent.parent
FRAMES = ROOT / "tests" / "fixtures" / "ethanol_5.xyz"


def _write(config_path: Path, output: Path, *extra: str) -> list[ase.Atoms]:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "validation_split.py"),
                    str(config_path), "-o", str(output), *extra], check=True, timeout=120)
    return ase.io.read(output, ":")


def test_split_follows_split_seed_and_partitions_the_frames(tmp_path):
    config = {"name": "split", "output_dir": str(tmp_path / "run"), "seed": 7,
              "data": {"train_files": [str(FRAMES)], "valid_fraction": 0.4, "split_seed": 1}}
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    valid = _write(config_path, tmp_path / "valid.xyz")
    train = _write(config_path, tmp_path / "train.xyz", "--training")

    frames = ase.io.read(FRAMES, ":")
    expected_train, expected_valid = split_indices(len(frames), 0.4, 1)  # split_seed, not seed
    for written, indices in ((valid, expected_valid), (train, expected_train)):
        assert len(written) == len(indices)
        for atoms, index in zip(written, np.sort(indices), strict=True):
            np.testing.assert_array_equal(atoms.positions, frames[index].positions)
