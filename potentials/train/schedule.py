"""Optimiser, learning-rate schedule, weight averaging and the wall-clock budget."""

from __future__ import annotations

import re

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from potentials.train.config import ConfigError, OptimConfig


def build_optimizer(model: torch.nn.Module, config: OptimConfig) -> torch.optim.Optimizer:
    """Adam or AdamW (with AMSGrad if asked) over all parameters.

    ``foreach=True``: one vectorised update for all parameter tensors. torch picks it only
    for CUDA tensors; on the CPU its default loops over them in Python, which for the 27
    tensors of the shipped acac model costs 2.6 ms per step against 1.5 ms (1 thread).
    """
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
               amsgrad=config.amsgrad, foreach=True)


def build_scheduler(optimizer: torch.optim.Optimizer, config: OptimConfig, epochs: int):
    """ReduceLROnPlateau on the validation loss, cosine annealing over ``epochs``, or None."""
    if config.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.plateau_factor, patience=config.plateau_patience,
            min_lr=config.min_lr)
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(epochs, 1), eta_min=config.min_lr)
    return None


def step_scheduler(scheduler, valid_loss: float) -> None:
    if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        scheduler.step(valid_loss)
    elif scheduler is not None:
        scheduler.step()


def build_ema(model: torch.nn.Module, decay: float | None) -> AveragedModel | None:
    """Exponential moving average of the weights (and buffers), or None."""
    if decay is None:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def parse_duration_seconds(text: str | float | int | None) -> float | None:
    """Seconds in ``"3h"``, ``"45m"``, ``"1h30m"``, ``"90s"`` or a plain number of seconds."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return float(text)
    match = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*"
                         r"(?:(\d+(?:\.\d+)?)s)?\s*", text)
    if not match or not any(match.groups()):
        raise ConfigError(f"optim.max_time = {text!r}: expected e.g. '3h', '45m', '1h30m'")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return 3600 * hours + 60 * minutes + seconds
