"""Per-frame loss weights: ``metadata/weight`` from extxyz through HDF5 into the loss."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import ase
import ase.io
import h5py
import numpy as np
import pytest
import torch

from potentials.cli import main
from potentials.data import (
    DataFormatError,
    Frame,
    GraphDataset,
    TrajectoryFile,
    TrajectoryWriter,
    write_frames,
)
from potentials.graph import AtomicGraph, batch_graphs, build_graph
from potentials.train.loss import LossWeights, weighted_loss

CUTOFF_ANGSTROM = 3.0
WEIGHT_PATH = "trajectories/default/metadata/weight"


def water(weight: float = 1.0, shift_angstrom: float = 0.0) -> Frame:
    """A labelled water molecule with loss weight ``weight``."""
    positions = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]])
    return Frame(atomic_numbers=np.array([8, 1, 1]), positions_angstrom=positions + shift_angstrom,
                 cell_angstrom=np.zeros((3, 3)), pbc=np.zeros(3, bool), energy_ev=-14.2,
                 forces_ev_per_angstrom=np.full((3, 3), 0.1), weight=weight)


def weighted_images(weights: list[float | None]) -> list[ase.Atoms]:
    """H2 molecules with energy labels, ``info["weight"]`` set unless the weight is None."""
    images = []
    for k, weight in enumerate(weights):
        atoms = ase.Atoms("H2", positions=[[0.0, 0.0, 0.0], [0.0, 0.0, 0.74 + 0.01 * k]])
        atoms.info["energy"] = -1.0 - k
        if weight is not None:
            atoms.info["weight"] = weight
        images.append(atoms)
    return images


def test_weights_round_trip_extxyz_hdf5_atoms(tmp_path: Path,
                                              capsys: pytest.CaptureFixture) -> None:
    weights = [None, 0.0, 0.5, None, 2.0]
    source, output = tmp_path / "in.xyz", tmp_path / "data.h5"
    ase.io.write(source, weighted_images(weights), format="extxyz")
    assert main(["convert", str(source), "-o", str(output)]) == 0, capsys.readouterr().err
    expected = [1.0 if w is None else w for w in weights]
    with h5py.File(output, "r") as file:
        np.testing.assert_array_equal(file["trajectories/in/metadata/weight"][()], expected)
    with TrajectoryFile(output) as trajectory:
        assert [trajectory.read_frame(k).weight for k in range(5)] == expected
        infos = [atoms.info for atoms in trajectory]
    assert [info.get("weight") for info in infos] == weights  # absent when 1
    back = tmp_path / "back.xyz"
    assert main(["convert", str(output), "-o", str(back)]) == 0, capsys.readouterr().err
    assert [a.info.get("weight") for a in ase.io.read(back, index=":")] == weights


def test_weight_dataset_is_backfilled_across_chunks(tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    frames = [water(), water(), water(), water(weight=0.25), water()]
    with TrajectoryWriter(output, chunk_frames=2) as writer:
        writer.add_trajectory("default", frames)
    with h5py.File(output, "r") as file:
        np.testing.assert_array_equal(file[WEIGHT_PATH][()], [1.0, 1.0, 1.0, 0.25, 1.0])


def test_absent_weight_dataset_means_weight_one(tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    write_frames(output, [water(), water(weight=1.0)])
    with h5py.File(output, "r") as file:
        assert WEIGHT_PATH not in file
    with TrajectoryFile(output) as trajectory:
        assert [trajectory.read_frame(k).weight for k in range(2)] == [1.0, 1.0]
        assert all("weight" not in atoms.info for atoms in trajectory)


@pytest.mark.parametrize("weight", [-0.5, float("nan"), float("inf")])
def test_bad_weight_is_rejected_when_writing(tmp_path: Path, weight: float) -> None:
    with pytest.raises(DataFormatError) as caught:
        write_frames(tmp_path / "out.h5", [water(), water(weight=weight)])
    assert (caught.value.frame, caught.value.field) == (1, "weight")
    assert str(caught.value).startswith(f"{tmp_path / 'out.h5'}: frame 1: field 'weight'")
    assert not (tmp_path / "out.h5").exists()


def test_bad_weight_in_a_file_is_rejected_when_reading(tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    write_frames(output, [water(), water(weight=0.5), water()])
    with h5py.File(output, "r+") as file:
        file[WEIGHT_PATH][2] = -1.0
    with TrajectoryFile(output) as trajectory:
        assert trajectory.read_frame(1).weight == 0.5
        with pytest.raises(DataFormatError, match="frame 2: field '.*metadata/weight'"):
            trajectory.read_frame(2)


def test_graph_dataset_items_carry_the_weight(tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    write_frames(output, [water(weight=0.0), water(), water(weight=3.0)])
    dataset = GraphDataset(output, CUTOFF_ANGSTROM)
    try:
        assert [dataset[k].weight.tolist() for k in range(3)] == [[0.0], [1.0], [3.0]]
        batch = batch_graphs([dataset[k] for k in range(3)])
        assert batch.weight.tolist() == [0.0, 1.0, 3.0]
    finally:
        dataset.close()


def test_config_type_weights_multiply_the_frame_weights(tmp_path: Path) -> None:
    output = tmp_path / "out.h5"
    frames = [dataclasses.replace(water(weight), config_type=config_type) for weight, config_type
              in [(0.5, "surface"), (1.0, "bulk"), (3.0, "surface"), (1.0, None)]]
    write_frames(output, frames)
    dataset = GraphDataset(output, CUTOFF_ANGSTROM, config_type_weights={"surface": 4.0})
    try:
        assert [dataset[k].weight.item() for k in range(4)] == [2.0, 1.0, 12.0, 1.0]
    finally:
        dataset.close()


def graph_of(frame: Frame, weight: float) -> AtomicGraph:
    """The labelled graph of ``frame`` with loss weight ``weight``."""
    return build_graph(frame.atomic_numbers, frame.positions_angstrom, frame.cell_angstrom,
                       frame.pbc, CUTOFF_ANGSTROM, energy_ev=frame.energy_ev,
                       forces_ev_per_angstrom=frame.forces_ev_per_angstrom, weight=weight)


def test_frame_of_weight_zero_does_not_change_the_loss() -> None:
    first, second = water(), water(shift_angstrom=5.0)
    prediction_first = {"energy": torch.tensor([-14.0], dtype=torch.float64),
                        "forces": torch.full((3, 3), 0.3, dtype=torch.float64)}
    wrong_second = {"energy": torch.tensor([1.0e3], dtype=torch.float64),
                    "forces": torch.full((3, 3), -50.0, dtype=torch.float64)}
    both = {name: torch.cat([prediction_first[name], wrong_second[name]])
            for name in prediction_first}
    weights = LossWeights(energy=1.0, forces=10.0, stress=0.0)
    alone = weighted_loss(prediction_first, batch_graphs([graph_of(first, 1.0)]), weights)
    ignored = weighted_loss(both, batch_graphs([graph_of(first, 1.0), graph_of(second, 0.0)]),
                            weights)
    counted = weighted_loss(both, batch_graphs([graph_of(first, 1.0), graph_of(second, 1.0)]),
                            weights)
    assert alone.item() > 0
    torch.testing.assert_close(ignored, alone, rtol=1e-12, atol=0.0)
    assert counted.item() > 100 * alone.item()


def test_element_weights_make_the_force_term_a_weighted_mean_over_atoms() -> None:
    graph = batch_graphs([graph_of(water(), 1.0)])  # O, H, H with reference forces 0.1 eV/Å
    errors_ev_per_angstrom = torch.tensor([0.3, 0.1, -0.2], dtype=torch.float64)
    predicted = {"energy": graph.energy.clone(),  # no energy error: the force term alone
                 "forces": graph.forces + errors_ev_per_angstrom[:, None]}
    squared = errors_ev_per_angstrom.square()  # per atom, the same on each component
    plain = LossWeights(energy=1.0, forces=10.0, stress=0.0)
    torch.testing.assert_close(weighted_loss(predicted, graph, plain), 10.0 * squared.mean(),
                               rtol=1e-12, atol=0.0)
    oxygen_times_4 = LossWeights(energy=1.0, forces=10.0, stress=0.0, forces_by_element=((8, 4.0),))
    weighted_mean = (4.0 * squared[0] + squared[1] + squared[2]) / 6.0
    torch.testing.assert_close(weighted_loss(predicted, graph, oxygen_times_4),
                               10.0 * weighted_mean, rtol=1e-12, atol=0.0)
    every_element_once = LossWeights(1.0, 10.0, 0.0, forces_by_element=((8, 1.0), (1, 1.0)))
    torch.testing.assert_close(weighted_loss(predicted, graph, every_element_once),
                               weighted_loss(predicted, graph, plain), rtol=1e-12, atol=0.0)
