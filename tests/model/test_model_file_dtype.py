"""A model file's ``dtype`` entry is checked before it is used."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from potentials.model import load_model, save_model
from potentials.model.io import ModelFileError
from tests.builders import make_model


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_saved_dtype_is_restored(tmp_path: Path, dtype: str) -> None:
    path = tmp_path / "m.model"
    save_model(make_model("scalar-hidden", getattr(torch, dtype)), path)
    assert next(load_model(path).parameters()).dtype == getattr(torch, dtype)


@pytest.mark.parametrize("bad", ["float16", "int64", "nn", "", 64])
def test_bad_dtype_is_a_model_file_error_naming_it(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "m.model"
    save_model(make_model("scalar-hidden"), path)
    content = torch.load(path, weights_only=True)
    content["dtype"] = bad
    torch.save(content, path)
    with pytest.raises(ModelFileError, match=f"m.model: dtype {bad!r} is not one of"):
        load_model(path)
