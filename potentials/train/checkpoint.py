"""Training checkpoints, written atomically so that a kill never leaves a corrupt one.

A checkpoint holds plain data and tensors only and is read with ``weights_only=True``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from potentials.train.config import ConfigError

CHECKPOINT_NAME = "checkpoint.pt"
# How frames are loaded changes speed, not the numbers, so a resume may change these.
DATA_LOADING_KEYS = frozenset({"in_memory", "num_workers"})


@dataclass
class TrainingState:
    """Progress that a checkpoint must carry for an exact resume."""

    epoch: int = 0
    elapsed_seconds: float = 0.0
    stage: int = 1
    best_valid_loss: float = math.inf
    best_epoch: int = -1
    epochs_without_improvement: int = 0
    history: list[dict] = field(default_factory=list)


def check_resumable(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Raise ConfigError if the model, data or seed differ from the checkpoint's config."""
    changed = [f"{section}.{key}" for section in ("model", "data") for key in current[section]
               if key not in DATA_LOADING_KEYS and saved[section].get(key) != current[section][key]]
    changed += ["seed"] if saved["seed"] != current["seed"] else []
    if changed:
        raise ConfigError(f"cannot resume: the config differs from the checkpoint's in "
                          f"{changed}; only optim, loss, output and data-loading settings "
                          f"may change")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint dictionary at ``path`` (no code from the file is executed)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    return torch.load(path, map_location="cpu", weights_only=True)
