"""Weight averaging: the EMA's warm-up lets the random initial weights fade."""

from __future__ import annotations

import pytest
import torch

from potentials.train.schedule import build_ema


def averaged_after(values: list[float], decay: float) -> float:
    """EMA of a one-weight model whose weight takes ``values`` at successive updates."""
    model = torch.nn.Linear(1, 1, bias=False)
    ema = build_ema(model, decay)
    for value in values:
        model.weight.data.fill_(value)
        ema.update_parameters(model)
    return float(ema.module.weight.detach())


def test_the_decay_warms_up_to_its_set_value():
    values = [0.3, -1.2, 2.0, 0.5, 4.0] + [1.0] * 2000
    expected = values[0]  # the first update copies the weights
    for n, value in enumerate(values[1:], start=1):
        decay = min(0.99, (1 + n) / (10 + n))
        expected = decay * expected + (1 - decay) * value
    assert averaged_after(values, 0.99) == pytest.approx(expected, rel=1e-5)


def test_initial_weights_fade_within_a_short_run():
    """150 updates after a jump from the initial weight 0 to 1: a fixed decay of 0.99 would
    keep 0.99^149 = 22 % of the initial weight; the warm-up keeps well under 1 %."""
    kept = 1.0 - averaged_after([0.0] + [1.0] * 149, 0.99)
    assert 0.99 ** 149 > 0.2
    assert kept < 0.01
