"""Streaming MD frames to disk: the project's HDF5 format (.h5) or any ASE format."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import ase
import ase.io
from ase.calculators.singlepoint import SinglePointCalculator

from potentials.data.ase_frames import frame_from_atoms
from potentials.data.convert import HDF5_SUFFIXES
from potentials.data.output import ase_output_format, prepare_output
from potentials.data.writer import TrajectoryWriter


def labelled_copy(atoms: ase.Atoms, with_temperature: bool = True) -> ase.Atoms:
    """A copy of ``atoms`` holding its calculator's energy, forces (and stress) results, and a
    committee's ``energy_uncertainty`` [eV] in ``info`` and ``forces_uncertainty`` [eV/Å] in
    ``arrays``; with velocities and ``with_temperature``, ``temperature_kelvin`` in ``info``."""
    copy = atoms.copy()
    results = {k: v for k, v in atoms.calc.results.items() if k in ("energy", "forces",
                                                                     "stress")}
    copy.calc = SinglePointCalculator(copy, **results)
    if "forces_uncertainty" in atoms.calc.results:
        copy.info["energy_uncertainty"] = atoms.calc.results["energy_uncertainty"]
        copy.arrays["forces_uncertainty"] = atoms.calc.results["forces_uncertainty"].copy()
    if with_temperature and atoms.get_velocities() is not None and len(atoms):
        copy.info["temperature_kelvin"] = float(atoms.get_temperature())
    return copy


class TrajectoryOutput:
    """Context manager accepting frames one at a time while MD runs.

    ``.h5``/``.hdf5`` files are HDF5 trajectories (labelled frames that ``potentials train``
    reads directly), complete only when the block exits, with or without an exception; other
    suffixes are appended frame by frame with ``ase.io.write``, and in extxyz a committee's
    uncertainties are kept too (``labelled_copy``; HDF5 frames hold reference labels only).
    """

    def __init__(self, path: str | Path, overwrite: bool = False):
        self.path = Path(path)
        if self.path.suffix.lower() not in HDF5_SUFFIXES:
            ase_output_format(self.path, trajectory=True)
        prepare_output(self.path, overwrite)
        self.overwrite = overwrite
        self.count = 0
        self._writer: TrajectoryWriter | None = None

    def __enter__(self) -> TrajectoryOutput:
        if self.path.suffix.lower() in HDF5_SUFFIXES:
            self._writer = TrajectoryWriter(self.path, overwrite=self.overwrite).__enter__()
            self._trajectory = self._writer.begin_trajectory("md", source="potentials md")
        elif self.path.exists():
            self.path.unlink()
        return self

    def write(self, atoms: ase.Atoms) -> None:
        """Append ``atoms`` with its calculator's current results."""
        frame = labelled_copy(atoms)
        if self._writer is not None:
            self._trajectory.append(frame_from_atoms(frame))
        else:
            ase.io.write(self.path, frame, append=self.count > 0)
        self.count += 1

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Complete the HDF5 file, even after an exception once a frame has been written.

        A simulation that blows up (the calculator refusing atoms closer than 0.1 Å) keeps
        the frames up to the crash, which are what is needed to see what went wrong; the
        exception then propagates. With no frame written, an exception leaves no file.
        """
        if self._writer is None:
            return
        if self.count > 0:
            self._writer.__exit__(None, None, None)
        else:
            self._writer.__exit__(exc_type, exc, traceback)
