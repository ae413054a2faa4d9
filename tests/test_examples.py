"""Every example script runs as shipped from a scratch directory (MD with few steps), and the
fine-tuning example config starts from the model it names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import ase.io
import pytest
import torch

from potentials.model.registry import load_named_model
from potentials.train.config import load_config
from potentials.train.trainer import Trainer
from tests.conftest import FIXTURES

EXAMPLES = Path(__file__).parent.parent / "examples"
# script -> (text its output must contain, how often, STEPS or None for the script's default)
SCRIPTS = {
    "langevin_acac.py": ("mean temperature", 1, "20"),
    "optimise_acac.py": ("converged: True", 2, None),  # BFGS and FIRE reach 0.01 eV/Å
    "npt_cuau.py": ("volume", 1, "20"),
    "select_uncertain_frames.py": ("selected 1 frames", 1, "20"),  # 21 states, 40 apart
}


@pytest.mark.parametrize(("script", "expected"), list(SCRIPTS.items()))
def test_example_runs(script, expected, tmp_path):
    text, count, steps = expected
    # The caller's thread settings pass through: forcing two threads beside another busy core made
    # optimise_acac.py take 420 s instead of 30 s.
    env = os.environ | ({"STEPS": steps} if steps else {})
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count(text) == count, result.stdout


def test_fine_tuning_example_starts_from_the_shipped_member_it_names(tmp_path):
    """The example's config as shipped, on fixtures instead of ../shared/data: its
    ``init_from`` resolves and the trainer starts from exactly that model, with the ethanol
    data's isolated-atom energies as E0s."""
    config = load_config(EXAMPLES / "finetune_acac_to_ethanol.yaml",
                         [f"output_dir={tmp_path / 'run'}", "data.valid_fraction=0.4",
                          f"data.train_files=[{FIXTURES / 'ethanol_5.xyz'}]",
                          f"data.isolated_atoms_file={FIXTURES / 'ethanol_isolated_atoms.xyz'}"])
    start = load_named_model(config.init_from)
    trainer = Trainer(config, show_progress=False)
    assert trainer.model.config == start.config
    e0s = {int(atoms.numbers[0]): atoms.get_potential_energy() for atoms in
           ase.io.read(FIXTURES / "ethanol_isolated_atoms.xyz", ":")}
    assert trainer.model.statistics.e0s_ev == tuple(e0s[z] for z in (1, 6, 8))
    for key, value in start.state_dict().items():
        if key != "e0s_ev":
            assert torch.equal(trainer.model.state_dict()[key], value), key
