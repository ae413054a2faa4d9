"""Training checkpoints, written atomically so that a kill never leaves a corrupt one.

A checkpoint holds plain data and tensors only and is read with ``weights_only=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

CHECKPOINT_NAME = "checkpoint.pt"


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint dictionary at ``path`` (no code from the file is executed)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    return torch.load(path, map_location="cpu", weights_only=True)
