"""Device and dtype names: bad values are `ValueError`s, reported by the CLI in one line."""

from __future__ import annotations

import pytest
import torch

from potentials.device import resolve_device, resolve_dtype


def test_auto_and_cpu() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")


def test_unknown_device_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        resolve_device("gpu")


def test_dtype_names() -> None:
    assert resolve_dtype("float32") is torch.float32
    assert resolve_dtype(torch.float64) is torch.float64
    with pytest.raises(ValueError, match="float16"):
        resolve_dtype("float16")
