"""Random access reads only the rows of the requested frame."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from potentials.data import Frame, TrajectoryFile, write_frames


def make_frames(n_frames: int) -> list[Frame]:
    rng = np.random.default_rng(1)
    frames = []
    for k in range(n_frames):
        n_atoms = 3 + k % 5
        frames.append(Frame(atomic_numbers=np.full(n_atoms, 1 + k % 8),
                            positions_angstrom=rng.normal(size=(n_atoms, 3)),
                            cell_angstrom=np.zeros((3, 3)), pbc=np.zeros(3, bool),
                            energy_ev=float(k), forces_ev_per_angstrom=rng.normal(
                                size=(n_atoms, 3))))
    return frames


def test_reading_one_frame_reads_only_its_rows(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lazy.h5"
    frames = make_frames(200)
    write_frames(path, frames)
    reads: list[tuple[str, object]] = []
    original = h5py.Dataset.__getitem__

    def recording_getitem(self: h5py.Dataset, selection: object) -> object:
        reads.append((self.name.split("/")[-1], selection))
        return original(self, selection)

    with TrajectoryFile(path) as trajectory:  # opening reads frame_offsets only
        monkeypatch.setattr(h5py.Dataset, "__getitem__", recording_getitem)
        frame = trajectory.read_frame(137)
    np.testing.assert_array_equal(frame.positions_angstrom, frames[137].positions_angstrom)
    offsets = np.concatenate([[0], np.cumsum([f.n_atoms for f in frames])])
    names = {name for name, _ in reads}
    assert {"positions", "forces", "atomic_numbers", "energy", "cell"} <= names
    assert "frame_offsets" not in names
    for name, selection in reads:
        assert isinstance(selection, slice), (name, selection)
        if name in ("positions", "forces", "atomic_numbers"):
            assert (selection.start, selection.stop) == (offsets[137], offsets[138]), name
        else:
            assert (selection.start, selection.stop) == (137, 138), name


def test_opening_reads_no_per_atom_data(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lazy.h5"
    write_frames(path, make_frames(50))
    reads: list[str] = []
    original = h5py.Dataset.__getitem__

    def recording_getitem(self: h5py.Dataset, selection: object) -> object:
        reads.append(self.name.split("/")[-1])
        return original(self, selection)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", recording_getitem)
    with TrajectoryFile(path) as trajectory:
        assert len(trajectory) == 50
        assert trajectory.frame_atom_counts().sum() == sum(3 + k % 5 for k in range(50))
    assert reads == ["frame_offsets"]
