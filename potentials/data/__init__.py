"""HDF5 trajectories: the format, its writer and reader, importers and the training dataset."""

from potentials.data.ase_frames import frame_from_atoms, frame_to_atoms, read_ase_frames
from potentials.data.dataset import GraphDataset
from potentials.data.errors import DataFormatError
from potentials.data.frame import Frame, validate_frame
from potentials.data.reader import TrajectoryFile
from potentials.data.writer import TrajectoryWriter, write_atoms, write_frames

__all__ = [
    "DataFormatError",
    "Frame",
    "GraphDataset",
    "TrajectoryFile",
    "TrajectoryWriter",
    "frame_from_atoms",
    "frame_to_atoms",
    "read_ase_frames",
    "validate_frame",
    "write_atoms",
    "write_frames",
]
