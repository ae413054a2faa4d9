"""``potentials convert``: round trips, formats, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import ase.io
import numpy as np
import pytest

from potentials.cli import main
from potentials.data import TrajectoryFile


def run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_extxyz_to_hdf5_and_back(fixtures_dir: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture,
                                 assert_same_atoms: Callable) -> None:
    inputs = [fixtures_dir / "acac_5.xyz", fixtures_dir / "cu_au_emt.xyz"]
    output = tmp_path / "data.h5"
    status, out, _ = run(["convert", *inputs, "-o", output], capsys)
    assert status == 0 and "wrote 9 frames" in out
    expected = ase.io.read(inputs[0], index=":") + ase.io.read(inputs[1], index=":")
    with TrajectoryFile(output) as trajectory:
        assert trajectory.names == ["acac_5", "cu_au_emt"]
        for index, atoms in enumerate(expected):
            assert_same_atoms(atoms, trajectory[index])
    for suffix in (".traj", ".db"):  # binary ASE formats: still bitwise
        status, _, err = run(["convert", output, "-o", tmp_path / f"back{suffix}"], capsys)
        assert status == 0, err
        for atoms, back in zip(expected, ase.io.read(tmp_path / f"back{suffix}", index=":"),
                               strict=True):
            assert_same_atoms(atoms, back)
    status, _, _ = run(["convert", output, "-o", tmp_path / "back.xyz"], capsys)
    back = ase.io.read(tmp_path / "back.xyz", index=":")
    assert status == 0 and len(back) == 9 and back[0].info["config_type"] == "300K_MD"
    np.testing.assert_allclose(back[7].get_stress(), expected[7].get_stress(), rtol=1e-12)


def test_output_directory_is_made(fixtures_dir: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "new" / "data.h5"
    status, out, err = run(["convert", fixtures_dir / "acac_5.xyz", "-o", output], capsys)
    assert status == 0 and "wrote 5 frames" in out, err
    with TrajectoryFile(output) as trajectory:
        assert len(trajectory) == 5


def test_hdf5_inputs_are_merged_with_names(fixtures_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture) -> None:
    first, merged = tmp_path / "first.h5", tmp_path / "merged.h5"
    assert run(["convert", fixtures_dir / "ethanol_5.xyz", "-o", first], capsys)[0] == 0
    status, _, _ = run(["convert", first, fixtures_dir / "mixed_sizes.xyz", "-o", merged,
                        "--trajectory-name", "ethanol", "--trajectory-name", "mixed"], capsys)
    assert status == 0
    with TrajectoryFile(merged) as trajectory:
        assert trajectory.trajectory_lengths() == {"ethanol": 5, "mixed": 7}


def test_custom_energy_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frames = []
    for k in range(5):
        atoms = ase.Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.7 + 0.01 * k]])
        atoms.info["dft_energy"] = -1.0 - k
        frames.append(atoms)
    source = tmp_path / "h2.xyz"
    ase.io.write(source, frames, format="extxyz")
    status, _, _ = run(["convert", source, "-o", tmp_path / "h2.h5", "--energy-key",
                        "dft_energy"], capsys)
    assert status == 0
    with TrajectoryFile(tmp_path / "h2.h5") as trajectory:
        assert [trajectory.read_frame(k).energy_ev for k in range(5)] == [-1, -2, -3, -4, -5]
    status, _, err = run(["convert", source, "-o", tmp_path / "foo.h5", "--energy-key",
                          "foo"], capsys)
    assert status == 1
    assert err == (f"potentials convert: error: {source}: frame 0: field 'energy': "
                   "requested energy key 'foo' is absent (run with --traceback for "
                   "details)\n")
    assert not (tmp_path / "foo.h5").exists()


@pytest.mark.parametrize(("extra", "message"), [
    (["--species", "C2Xx"], "unknown element symbol 'Xx'"),
    (["--trajectory-name", "a", "--trajectory-name", "b"], "2 trajectory names for 1 inputs"),
])
def test_bad_options(fixtures_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                     extra: list[str], message: str) -> None:
    status, _, err = run(["convert", fixtures_dir / "acac_5.xyz", "-o", tmp_path / "o.h5",
                          *extra], capsys)
    assert status == 1 and message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(fixtures_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture) -> None:
    output = tmp_path / "out.h5"
    output.write_text("keep me")
    status, _, err = run(["convert", fixtures_dir / "acac_5.xyz", "-o", output], capsys)
    assert status == 1 and "output exists; pass --overwrite" in err
    assert output.read_text() == "keep me"
    status, _, _ = run(["convert", fixtures_dir / "acac_5.xyz", "-o", output, "--overwrite"],
                       capsys)
    assert status == 0
    with TrajectoryFile(output) as trajectory:
        assert len(trajectory) == 5


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.xyz", None, "missing.xyz: no such file"),
    ("broken.xyz", "3\n\nH 0 0 0\n", "broken.xyz: frame 0: ASE cannot read"),
    ("noise.h5", b"\x89HDF\r\n\x1a\n" + bytes(100), "noise.h5"),
])
def test_bad_inputs_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, name: str,
                                  content: str | bytes | None, message: str) -> None:
    source = tmp_path / name
    if isinstance(content, str):
        source.write_text(content)
    elif content is not None:
        source.write_bytes(content)
    status, _, err = run(["convert", source, "-o", tmp_path / "out.h5"], capsys)
    assert status == 1 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out.h5").exists()


def test_unknown_output_format(fixtures_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture) -> None:
    status, _, err = run(["convert", fixtures_dir / "acac_5.xyz", "-o", tmp_path / "o.qqq"],
                         capsys)
    assert status == 1 and "cannot tell the output format" in err


def test_console_script_exits_nonzero_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "potentials.cli", "convert", str(tmp_path / "none.xyz"), "-o",
         str(tmp_path / "out.h5")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith(
        "none.xyz: no such file (run with --traceback for details)")
