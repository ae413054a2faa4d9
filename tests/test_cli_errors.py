"""Command-line errors: one line with a hint, or the full traceback with ``--traceback``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from potentials.cli import BROKEN_PIPE, main
from potentials.data import DataFormatError
from potentials.model import save_model
from tests.builders import make_model
from tests.conftest import FIXTURES


def convert_missing(tmp_path: Path) -> list[str]:
    return ["convert", str(tmp_path / "none.xyz"), "-o", str(tmp_path / "out.h5")]


def test_one_line_error_ends_with_the_traceback_hint(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    assert main(convert_missing(tmp_path)) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("potentials convert: error: ")
    assert err.rstrip().endswith("no such file (run with --traceback for details)")


@pytest.mark.parametrize("where", ["before", "after"])
def test_traceback_flag_before_or_after_the_subcommand(tmp_path: Path, where: str) -> None:
    argv = convert_missing(tmp_path)
    argv = ["--traceback", *argv] if where == "before" else [*argv, "--traceback"]
    with pytest.raises(DataFormatError, match="no such file"):
        main(argv)


def test_bad_device_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = tmp_path / "tiny.model"
    save_model(make_model("scalar-hidden"), model)
    assert main(["relax", "--model", str(model), "--structure", str(FIXTURES / "acac_5.xyz"),
                 "--device", "gpu", "--output", str(tmp_path / "relaxed.xyz")]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "unknown device 'gpu'" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["md", "--timestep", "-1"], "argument --timestep: must be > 0 fs, got -1"),
    (["md", "--timestep", "nan"], "argument --timestep: must be > 0 fs, got nan"),
    (["md", "--temperature", "-3"], "argument --temperature: must be >= 0 K, got -3"),
    (["md", "--pressure", "inf"], "argument --pressure: must be finite, got inf"),
    (["md", "--steps", "0"], "argument --steps: must be > 0, got 0"),
    (["md", "--steps", "1.5"], "argument --steps: invalid int value: '1.5'"),
    (["md", "--barostat-time", "0"], "argument --barostat-time: must be > 0 fs, got 0"),
    (["relax", "--fmax", "-1"], "argument --fmax: must be > 0 eV/Å, got -1"),
    (["relax", "--steps", "0"], "argument --steps: must be > 0, got 0"),
    (["evaluate", "data.h5", "--batch-size", "0"], "argument --batch-size: must be > 0, got 0"),
])
def test_out_of_range_options_name_the_flag_and_its_unit(argv: list[str], message: str,
                                                         capsys: pytest.CaptureFixture) -> None:
    """Refused by the command line itself (status 2), before any model is loaded."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(message)


def test_a_reader_closing_the_pipe_early_is_no_error() -> None:
    """``potentials models | head -1``: no message, status 141 (128 + SIGPIPE)."""
    process = subprocess.Popen([sys.executable, "-m", "potentials.cli", "models"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # before the command has printed anything (importing takes seconds)
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == BROKEN_PIPE
    assert stderr == ""
