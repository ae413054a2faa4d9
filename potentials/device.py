"""Choosing the torch device and dtype from user-facing names."""

from __future__ import annotations

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA if available, else CPU.

    Raises
    ------
    ValueError
        For a name torch does not know, or an explicitly requested CUDA device when CUDA is
        not available: bad option values, which the command line reports in one line.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device '{name}' ({error})") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device '{name}' was requested but CUDA is not available "
                           f"(torch {torch.__version__}); use device='cpu' or 'auto'")
    return device


def resolve_dtype(name: str | torch.dtype) -> torch.dtype:
    """torch dtype from ``"float32"``/``"float64"`` (or a torch dtype)."""
    if isinstance(name, torch.dtype) and name in DTYPES.values():
        return name
    if name not in DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {name!r}")
    return DTYPES[name]
