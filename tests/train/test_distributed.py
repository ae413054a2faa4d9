"""Two CPU processes (gloo, launched by torchrun) train exactly like one with the same batch."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from tests.train.conftest import tiny_config


def train(config: dict, path, processes: int) -> tuple[list[dict], str]:
    """metrics.csv rows and the printed output of a run on ``processes`` processes."""
    path.write_text(yaml.safe_dump(config))
    if processes == 1:
        command = [sys.executable, "-m", "potentials.cli", "train", str(path)]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   f"--nproc_per_node={processes}", "-m", "potentials.cli", "train", str(path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(os.path.join(config["output_dir"], "metrics.csv")) as stream:
        return list(csv.DictReader(stream)), result.stdout


def test_two_processes_match_one(mixed_h5, tmp_path):
    # 13 training frames of 9 and 15 atoms in batches of 4: the shards hold 7 and 6 frames,
    # so in the last step one process has a frame and the other none.
    changes = {"optim.max_epochs": 3, "optim.shuffle": False, "optim.batch_size": 4,
               "data.max_train_frames": 13, "optim.valid_batch_size": 3}
    single, single_log = train(tiny_config(mixed_h5, tmp_path / "one", **changes),
                               tmp_path / "one.yaml", 1)
    double, double_log = train(tiny_config(mixed_h5, tmp_path / "two", **changes),
                               tmp_path / "two.yaml", 2)
    split = re.search(r"training on \d+ frames, validating on \d+,", single_log).group()
    assert split in double_log  # the frame counts of all processes together
    assert double_log.count("model written to") == 1
    assert len(single) == len(double) == 3
    for one, two in zip(single, double, strict=True):
        for key in ("train_loss", "valid_loss", "train_forces_rmse_mev_per_angstrom",
                    "valid_forces_rmse_mev_per_angstrom", "valid_energy_rmse_mev"):
            assert float(two[key]) == pytest.approx(float(one[key]), rel=1e-8), key
    # the final evaluation's force errors per element, summed over both processes
    one_elements, two_elements = (
        json.loads((tmp_path / run / "summary.json").read_text())["forces_per_element"]["valid"]
        for run in ("one", "two"))
    assert one_elements and one_elements.keys() == two_elements.keys()
    for symbol, values in one_elements.items():
        assert two_elements[symbol]["atoms"] == values["atoms"]
        assert two_elements[symbol]["forces_rmse_mev_per_angstrom"] == pytest.approx(
            values["forces_rmse_mev_per_angstrom"], rel=1e-8)
