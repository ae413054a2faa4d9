"""``potentials md`` and ``potentials relax`` from the command line with a model file."""

from __future__ import annotations

import re

import ase
import ase.io
import pytest

from potentials.cli import RELAX_NOT_CONVERGED, main
from potentials.data import TrajectoryFile
from potentials.md import runner
from potentials.md.observations import Observations, UnstableDynamicsError
from potentials.md.setup import read_structure, split_frame_index
from potentials.model import save_model
from tests.builders import make_model


def model_and_structure(tmp_path):
    model = tmp_path / "tiny.model"
    save_model(make_model("vector-hidden"), model)
    structure = tmp_path / "co2h2.xyz"
    ase.io.write(structure, ase.Atoms("COOHH", positions=[
        [0, 0, 0], [1.2, 0, 0], [-1.2, 0, 0], [1.8, 0.8, 0], [-1.8, -0.8, 0]]))
    return str(model), str(structure)


def test_md_command_writes_a_trainable_trajectory(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    output = tmp_path / "md.h5"
    status = main(["md", "--model", model, "--structure", structure, "--steps", "20",
                   "--write-every", "5", "--output", str(output), "--ensemble", "nve",
                   "--timestep", "0.1", "--no-progress"])
    assert status == 0
    captured = capsys.readouterr()
    assert "total-energy drift" in captured.out and "steps/s" in captured.out
    assert captured.err == ""  # --no-progress: no progress bar
    with TrajectoryFile(output) as trajectory:
        assert len(trajectory) == 5
        assert trajectory[0].get_forces().shape == (5, 3)
    assert main(["md", "--model", model, "--structure", structure, "--steps", "2",
                 "--output", str(output)]) == 1
    assert "overwrite" in capsys.readouterr().err


def test_md_output_is_named_after_the_model_file_stem(tmp_path, monkeypatch):
    model, structure = model_and_structure(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["md", "--model", model, "--structure", structure, "--steps", "2"]) == 0
    (output,) = tmp_path.glob("md-*.h5")
    assert output.name.startswith("md-tiny-")


def test_outputs_go_into_directories_made_for_them(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    trajectory, relaxed = tmp_path / "md" / "run" / "md.h5", tmp_path / "relax" / "out.xyz"
    steps = tmp_path / "relax" / "steps" / "relax.traj"
    assert main(["md", "--model", model, "--structure", structure, "--steps", "4",
                 "--write-every", "2", "--output", str(trajectory), "--no-progress"]) == 0
    with TrajectoryFile(trajectory) as frames:
        assert len(frames) == 3  # steps 0, 2 and 4
    assert trajectory.with_suffix(".png").stat().st_size > 1000  # the plot, beside it
    assert main(["relax", "--model", model, "--structure", structure, "--output",
                 str(relaxed), "--trajectory", str(steps)]) == 0
    assert len(ase.io.read(relaxed)) == 5 and len(ase.io.read(steps, ":")) >= 1
    assert capsys.readouterr().err == ""


def test_repeat_runs_a_supercell_of_the_periodic_directions(tmp_path, capsys):
    model, molecule = model_and_structure(tmp_path)
    slab = ase.io.read(molecule)
    slab.set_cell([6.0, 5.0, 12.0])
    slab.pbc = [True, True, False]
    structure, output = tmp_path / "slab.xyz", tmp_path / "md.xyz"
    ase.io.write(structure, slab)
    assert main(["md", "--model", model, "--structure", str(structure), "--repeat", "2", "3",
                 "1", "--steps", "2", "--output", str(output), "--no-progress",
                 "--no-plot"]) == 0
    first = ase.io.read(output, 0)
    expected = slab.repeat((2, 3, 1))
    assert len(first) == 6 * len(slab) and (first.pbc == slab.pbc).all()
    assert (first.numbers == expected.numbers).all()
    assert abs(first.positions - expected.positions).max() < 1e-9  # frame 0: not yet moved
    assert abs(first.cell.array - expected.cell.array).max() < 1e-12
    capsys.readouterr()
    assert main(["md", "--model", model, "--structure", str(structure), "--repeat", "1", "1",
                 "2", "--steps", "2", "--output", str(tmp_path / "refused.xyz")]) == 1
    error = capsys.readouterr().err
    assert "cannot repeat the structure 2 times along cell vector c: it is not periodic" in error
    assert not (tmp_path / "refused.xyz").exists()


def test_relax_command(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    output = tmp_path / "relaxed.xyz"
    status = main(["relax", "--model", model, "--structure", structure, "--fmax", "0.05",
                   "--output", str(output)])
    printed = capsys.readouterr().out
    assert status == 0
    assert "converged after" in printed and "NOT" not in printed
    relaxed = ase.io.read(output)
    assert len(relaxed) == 5
    assert abs(relaxed.get_forces()).max() < 0.05
    assert "temperature_kelvin" not in relaxed.info  # a relaxed structure has no temperature


def test_relax_not_converged_exits_with_3(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    output = tmp_path / "relaxed.xyz"
    status = main(["relax", "--model", model, "--structure", structure, "--fmax", "1e-6",
                   "--steps", "1", "--output", str(output)])
    assert status == RELAX_NOT_CONVERGED == 3
    assert "NOT converged" in capsys.readouterr().out
    assert output.exists()


def test_unknown_model_is_a_one_line_error(capsys):
    assert main(["md", "--model", "no-such-model", "--steps", "1"]) == 1
    assert "neither a file nor a shipped model" in capsys.readouterr().err


def test_md_draws_its_run_beside_the_trajectory_unless_told_not_to(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    base = ["md", "--model", model, "--structure", structure, "--steps", "10",
            "--no-progress"]
    assert main([*base, "--output", str(tmp_path / "run.xyz")]) == 0
    plot = tmp_path / "run.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {plot}" in capsys.readouterr().out
    # an existing plot is refused before anything runs, as an existing trajectory is
    assert main([*base, "--output", str(tmp_path / "again.xyz"), "--plot", str(plot)]) == 1
    assert "run.png" in capsys.readouterr().err
    assert not (tmp_path / "again.xyz").exists()
    assert main([*base, "--output", str(tmp_path / "quiet.xyz"), "--no-plot"]) == 0
    assert not (tmp_path / "quiet.png").exists()


def test_a_diverging_run_is_drawn_up_to_its_divergence(tmp_path, capsys, monkeypatch):
    """The states recorded before a divergence travel with the error and are plotted."""
    model, structure = model_and_structure(tmp_path)
    before = Observations(temperatures=[300.0, 900.0], potentials=[-1.0, 2.0],
                          totals=[0.0, 3.0])

    def diverge(*args, **kwargs):
        raise UnstableDynamicsError("the dynamics diverged at step 2 (1 fs): ...", before)

    monkeypatch.setattr(runner, "run_md", diverge)
    assert main(["md", "--model", model, "--structure", structure, "--output",
                 str(tmp_path / "run.h5"), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "the dynamics diverged at step 2" in captured.err
    assert f"plot of the run up to the divergence: {tmp_path / 'run.png'}" in captured.out
    assert (tmp_path / "run.png").read_bytes()[:4] == b"\x89PNG"


def test_a_frame_of_an_md_trajectory_is_relaxed(tmp_path, capsys):
    """``--structure md.h5@K`` starts from frame K of the HDF5 trajectory md wrote."""
    model, structure = model_and_structure(tmp_path)
    trajectory_path = tmp_path / "md.h5"
    assert main(["md", "--model", model, "--structure", structure, "--steps", "20",
                 "--write-every", "5", "--output", str(trajectory_path), "--no-progress"]) == 0
    with TrajectoryFile(trajectory_path) as trajectory:
        third, last = trajectory[2], trajectory[len(trajectory) - 1]
    for spec, frame in ((f"{trajectory_path}@2", third), (str(trajectory_path), last)):
        atoms = read_structure(spec)
        assert atoms.positions.tolist() == frame.positions.tolist()
        assert atoms.calc is None  # the stored labels are not carried over
    output = tmp_path / "relaxed.xyz"
    assert main(["relax", "--model", model, "--structure", f"{trajectory_path}@2",
                 "--fmax", "0.05", "--output", str(output)]) == 0
    assert "converged" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".h5", ".xyz"])
def test_a_run_continued_from_its_last_frame_retraces_an_uninterrupted_one(tmp_path, suffix):
    """NVE is deterministic: 20 steps, then 20 more from the frame written at step 20 with its
    stored velocities, end where 40 steps in one go end (extxyz keeps ~1e-8 Å, HDF5 all)."""
    model, structure = model_and_structure(tmp_path)

    def md(start: str, steps: int, output: str, *extra: str) -> ase.Atoms:
        assert main(["md", "--model", model, "--structure", start, "--ensemble", "nve",
                     "--timestep", "0.2", "--steps", str(steps), "--write-every", "20",
                     "--output", str(tmp_path / output), "--no-progress", *extra]) == 0
        return read_structure(str(tmp_path / output))  # the last frame

    whole = md(structure, 40, f"whole{suffix}")
    md(structure, 20, f"first{suffix}")
    first = str(tmp_path / f"first{suffix}")
    continued = md(first, 20, f"second{suffix}", "--velocities", "structure")
    tolerance = 1e-6 if suffix == ".xyz" else 1e-12
    assert abs(continued.positions - whole.positions).max() < tolerance
    assert abs(continued.get_momenta() - whole.get_momenta()).max() < tolerance
    redrawn = md(first, 20, f"redrawn{suffix}")  # new Maxwell-Boltzmann velocities
    assert abs(redrawn.positions - whole.positions).max() > 1e-3


def test_continuing_needs_stored_velocities(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    assert main(["md", "--model", model, "--structure", structure, "--velocities",
                 "structure", "--steps", "5"]) == 1
    captured = capsys.readouterr()
    assert "co2h2.xyz holds no velocities to continue from" in captured.err
    assert captured.out == ""


def test_relax_writes_each_step_to_a_trajectory(tmp_path, capsys):
    model, structure = model_and_structure(tmp_path)
    path, output = tmp_path / "path.traj", tmp_path / "relaxed.xyz"
    assert main(["relax", "--model", model, "--structure", structure, "--fmax", "0.05",
                 "--output", str(output), "--trajectory", str(path)]) == 0
    steps = int(re.search(r"converged after (\d+) steps", capsys.readouterr().out)[1])
    images = ase.io.read(path, ":")
    assert len(images) == steps + 1  # the start and every step
    assert abs(images[-1].positions - ase.io.read(output).positions).max() < 1e-6
    assert images[-1].get_potential_energy() < images[0].get_potential_energy()
    assert main(["relax", "--model", model, "--structure", structure, "--trajectory",
                 str(tmp_path / "path.xyz"), "--output", str(tmp_path / "again.xyz")]) == 1
    assert "as .traj only" in capsys.readouterr().err


@pytest.mark.parametrize(("spec", "expected"), [
    ("a.xyz@3", ("a.xyz", 3)), ("a.xyz@-2", ("a.xyz", -2)), ("a.xyz", ("a.xyz", -1)),
    ("run@home/a.xyz", ("run@home/a.xyz", -1)),
])
def test_frame_index_after_the_last_at_sign(spec, expected):
    assert split_frame_index(spec) == expected


@pytest.mark.parametrize(("name", "content", "spec", "message"), [
    ("two.xyz", None, "{path}@5", "two.xyz: there is no frame 5"),
    ("shape.foo", "x\n", "{path}", "shape.foo: ASE cannot tell the format"),
])
def test_unreadable_structures_are_named(tmp_path, name, content, spec, message):
    path = tmp_path / name
    if content is None:
        ase.io.write(path, [ase.Atoms("H"), ase.Atoms("H2", positions=[[0, 0, 0], [0.7, 0, 0]])])
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_structure(spec.format(path=path))


def test_compiled_relax_gives_the_eager_structure(tmp_path, capsys):
    """--compile changes how the model is evaluated, not the numbers: the same BFGS path."""
    model, structure = model_and_structure(tmp_path)
    outputs = [tmp_path / "eager.xyz", tmp_path / "compiled.xyz"]
    for output, flags in zip(outputs, ([], ["--compile"]), strict=True):
        assert main(["relax", "--model", model, "--structure", structure, "--fmax", "0.05",
                     "--output", str(output), *flags]) == 0
    eager, compiled = (ase.io.read(output) for output in outputs)
    assert abs(compiled.positions - eager.positions).max() < 1e-8
    assert abs(compiled.get_forces() - eager.get_forces()).max() < 1e-8


@pytest.mark.parametrize(("command", "message"), [
    (["md", "--output", "{tmp}/md.foo"], "md.foo: cannot tell the output format"),
    (["md", "--output", "{tmp}/md.png"], "md.png: the png format holds one frame"),
    (["relax", "--output", "{tmp}/relaxed.foo"], "relaxed.foo: cannot tell the output format"),
    (["md", "--ensemble", "nvt", "--pressure", "5"],
     r"a pressure \(5.0 GPa\) acts only in the npt ensemble, not in nvt"),
    (["md", "--ensemble", "npt"], r"npt needs a cell periodic in all directions"),
])
def test_bad_options_are_one_line_errors_before_anything_runs(tmp_path, capsys, command,
                                                                message):
    model, structure = model_and_structure(tmp_path)
    argv = [part.format(tmp=tmp_path) for part in command]
    argv += ["--model", model, "--structure", structure]
    if "--steps" not in argv:
        argv += ["--steps", "5"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert len(captured.err.splitlines()) == 1
    assert re.search(message, captured.err), captured.err
    assert "MD of" not in captured.out  # not even the header
    assert "steps/s" not in captured.out and "converged" not in captured.out
    assert list(tmp_path.glob("md.*")) == [] and list(tmp_path.glob("relaxed.*")) == []


def test_an_unknown_element_is_named_before_md_starts(tmp_path, capsys):
    model, _ = model_and_structure(tmp_path)
    structure = tmp_path / "nacl.xyz"
    ase.io.write(structure, ase.Atoms("NaCl", positions=[[0, 0, 0], [2.4, 0, 0]]))
    assert main(["md", "--model", model, "--structure", str(structure), "--steps", "5"]) == 1
    captured = capsys.readouterr()
    assert "the model was not trained on element(s) ['Cl', 'Na']" in captured.err
    assert captured.out == ""  # no header line, no progress bar
