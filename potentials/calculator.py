"""`EquiCalculator`: the learned potential as an ASE calculator.

Every ASE integrator, optimiser and filter calls ``get_forces``/``get_stress`` once per step,
so the per-step path is kept short: the neighbour list is built with a Verlet skin and reused
until an atom has moved more than half the skin or the cell, species or periodicity changed
(edges beyond the cutoff contribute exactly zero through the cutoff envelope, so the results
equal a fresh build); tensors stay on the device; the model is loaded once.

A committee model (``potentials committee``) also reports how far its members disagree,
``energy_uncertainty`` and ``forces_uncertainty`` (:mod:`potentials.model.committee`), at no
extra cost.

``compile=True`` evaluates each model (each committee member) through the `torch.compile`d
energy-and-gradient function of the compiled training step
(:class:`~potentials.model.compiled.CompiledPredictor`), run without a weight graph: the same
numbers to rounding, 1.9 times the MD steps per second on one acetylacetone molecule and
1.25 to 1.4 times on 120 to 960 atoms (CPU, a two-member acac committee), after a first
call that compiles for minutes (docs/benchmarks.md, "Compiled calculator").
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Sequence

import ase
import numpy as np
import torch
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from potentials.device import resolve_device, resolve_dtype
from potentials.graph import AtomicGraph, batch_graphs, from_atoms, select_edges
from potentials.memory import keep_freed_memory
from potentials.model.committee import (
    CommitteePotential,
    MemberPredictor,
    eager_predictor,
    predict_with_spread,
)
from potentials.model.compiled import CompiledPredictor
from potentials.model.predict import edge_vectors
from potentials.model.registry import load_named_model

MIN_DISTANCE_ANGSTROM = 0.1
"""Atoms closer than this are rejected as unphysical input."""


def check_atoms(atoms: ase.Atoms) -> None:
    """Raise ValueError for structures no potential can evaluate."""
    if len(atoms) == 0:
        raise ValueError("the Atoms object is empty")
    bad = ~np.isfinite(atoms.positions).all(axis=1)
    if bad.any():
        raise ValueError(f"positions of atoms {np.nonzero(bad)[0].tolist()} are NaN or "
                         f"infinite")
    if atoms.pbc.any():
        if not np.isfinite(atoms.cell.array).all():
            raise ValueError(f"periodic cell {atoms.cell.array.tolist()} has NaN or infinite "
                             f"entries (pbc={atoms.pbc.tolist()})")
        lengths = atoms.cell.lengths()
        periodic_zero = [i for i in range(3) if atoms.pbc[i] and lengths[i] < 1e-8]
        if periodic_zero or (atoms.pbc.all() and abs(atoms.cell.volume) < 1e-8):
            raise ValueError(f"periodic cell {atoms.cell.array.tolist()} has zero volume "
                             f"(pbc={atoms.pbc.tolist()})")


class EquiCalculator(Calculator):
    """ASE calculator for a trained `potentials` model.

    Parameters
    ----------
    model
        Name of a shipped model (``"acac"``, see ``potentials models``), a model file, or an
        already loaded model module. ``"NAME[k]"`` or ``"NAME[i,j]"`` takes only those
        members of a committee (counted from 1, as its model card counts them): fewer
        members cost less per call and err more.
    device
        ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        Asking for CUDA without a GPU is an error.
    dtype
        ``"float64"`` (default; best energy conservation) or ``"float32"`` (faster).
    skin_angstrom
        Verlet skin in Å added to the cutoff; 0 rebuilds the neighbour list every call.
    compile
        Evaluate through `torch.compile`: up to twice as fast per call on a CPU for small
        molecules, less from hundreds of atoms on, after a first call that compiles for
        minutes (a C++ compiler must be installed; the code is cached on disk); it pays for
        MD runs of more than a few thousand steps. Structures with
        another number of atoms may compile again; a compilation error, or a ninth compiled
        variant, raises instead of running uncompiled.

    Properties: ``energy``/``free_energy`` [eV], ``forces`` [eV/Å], ``energies`` (per atom,
    [eV]) and, for cells periodic in all three directions, ``stress`` [eV/Å³, Voigt order].
    A committee model adds ``energy_uncertainty`` [eV] and ``forces_uncertainty`` (per atom,
    [eV/Å]): the standard deviations of its members' predictions.
    """

    implemented_properties = ["energy", "free_energy", "forces", "energies", "stress"]
    uncertainty_properties = ["energy_uncertainty", "forces_uncertainty"]

    def __init__(self, model: str | os.PathLike | torch.nn.Module = "acac",
                 device: str = "auto", dtype: str = "float64", skin_angstrom: float = 0.5,
                 compile: bool = False, **kwargs):
        super().__init__(**kwargs)
        keep_freed_memory()
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype)
        if isinstance(model, torch.nn.Module):  # a copy: the caller's module stays as it is
            self.model = copy.deepcopy(model).to(device=self.device, dtype=self.dtype).eval()
        else:
            self.model = load_named_model(model, dtype=self.dtype, device=self.device)
        self.is_committee = isinstance(self.model, CommitteePotential)
        members = self.model.members if self.is_committee else [self.model]
        self.compile = bool(compile)
        self._member_predictors: list[MemberPredictor] = [
            CompiledPredictor(m) if compile else eager_predictor(m) for m in members]
        if self.is_committee:
            self.implemented_properties = [*self.implemented_properties,
                                           *self.uncertainty_properties]
        if skin_angstrom < 0:
            raise ValueError(f"skin_angstrom must be >= 0, got {skin_angstrom}")
        self.skin_angstrom = float(skin_angstrom)
        self.cutoff_angstrom = float(self.model.cutoff_angstrom)
        self.neighbour_list_builds = 0
        self._graph: AtomicGraph | None = None
        self._reference_positions: np.ndarray | None = None
        self._built_for: tuple | None = None

    # -- neighbour list reuse -------------------------------------------------------------
    def _needs_rebuild(self, atoms: ase.Atoms) -> bool:
        if self._graph is None or _structure_key(atoms) != self._built_for:
            return True
        displacement = np.linalg.norm(atoms.positions - self._reference_positions, axis=1)
        return bool(displacement.max() > 0.5 * self.skin_angstrom)

    def _graph_for(self, atoms: ase.Atoms) -> AtomicGraph:
        """The graph of ``atoms`` on the device, with only the edges inside the cutoff.

        The neighbour list (cutoff + skin) is rebuilt only when the skin is exhausted; in
        between, the stored pairs are filtered by their current length, which costs far less
        than evaluating the model on the extra pairs.
        """
        if self._needs_rebuild(atoms):
            graph = from_atoms(atoms, self.cutoff_angstrom + self.skin_angstrom,
                               dtype=self.dtype)
            self._graph = graph.to(self.device)
            self._reference_positions = atoms.positions.copy()
            self._built_for = _structure_key(atoms)
            self.neighbour_list_builds += 1
        else:
            self._graph.pos = torch.as_tensor(atoms.positions, dtype=self.dtype,
                                              device=self.device)
        graph = self._graph
        distances = _checked_distances(graph)
        if self.skin_angstrom == 0:
            return graph
        return select_edges(graph, distances < self.cutoff_angstrom)

    # -- ASE interface --------------------------------------------------------------------
    def calculate(self, atoms: ase.Atoms | None = None, properties: Sequence[str] = ("energy",),
                  system_changes: Sequence[str] = all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        check_atoms(atoms)
        periodic_3d = bool(atoms.pbc.all())
        if "stress" in properties and not periodic_3d:
            raise PropertyNotImplementedError(
                f"stress needs a cell periodic in all three directions, pbc={atoms.pbc.tolist()}")
        graph = self._graph_for(atoms)
        results = self._predict(graph, compute_stress=periodic_3d)
        self.results = _to_numpy(results, periodic_3d)

    def _predict(self, graph: AtomicGraph, compute_stress: bool) -> dict[str, torch.Tensor]:
        """Energy, forces (stress) and, for a committee, the members' spread.

        Compiled predictors run without a weight graph (`torch.func.grad` inside them still
        differentiates by positions and strain); eager ones need autograd for their forces.
        """
        no_weight_graph = torch.no_grad() if self.compile else contextlib.nullcontext()
        with no_weight_graph:
            if self.is_committee:
                return predict_with_spread(self.model, graph, compute_stress=compute_stress,
                                           member_predictors=self._member_predictors)
            return self._member_predictors[0](graph, compute_stress)

    # -- many structures at once ---------------------------------------------------------
    def evaluate(self, images: Sequence[ase.Atoms], batch_size: int = 32
                 ) -> list[dict[str, np.ndarray | float]]:
        """Energy, forces, per-atom energies (and stress if 3-D periodic) of every image, and
        for a committee its members' spread (``energy_uncertainty``, ``forces_uncertainty``).

        Structures are batched into one graph per ``batch_size`` images, which is much
        faster than one call per structure on a GPU and still faster on a CPU.
        """
        results: list[dict[str, np.ndarray | float]] = []
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            for atoms in chunk:
                check_atoms(atoms)
            graphs = [from_atoms(a, self.cutoff_angstrom, dtype=self.dtype) for a in chunk]
            batch = batch_graphs(graphs).to(self.device)
            _checked_distances(batch)
            output = self._predict(batch, compute_stress=True)
            results.extend(_split_batch(output, batch, chunk))
        return results


def _structure_key(atoms: ase.Atoms) -> tuple[bytes, bytes, bytes]:
    """Species, periodicity and cell: a neighbour list is reused only while these stay equal."""
    return atoms.numbers.tobytes(), atoms.pbc.tobytes(), atoms.cell.array.tobytes()


def _checked_distances(graph: AtomicGraph) -> torch.Tensor:
    """[n_edges] edge lengths in Å; raises ValueError if two atoms are closer than 0.1 Å."""
    distances = edge_vectors(graph.pos, graph.cell, graph).norm(dim=-1)
    if distances.numel() and float(distances.min()) < MIN_DISTANCE_ANGSTROM:
        k = int(distances.argmin())
        first, second = graph.edge_index[:, k].tolist()
        raise ValueError(f"atoms {first} and {second} are {float(distances[k]):.3g} Å apart, "
                         f"closer than {MIN_DISTANCE_ANGSTROM} Å")
    return distances


def _to_numpy(results: dict[str, torch.Tensor], periodic_3d: bool
              ) -> dict[str, np.ndarray | float]:
    energy = float(results["energy"][0].detach())
    out = {"energy": energy, "free_energy": energy,
           "energies": results["energies"].detach().double().cpu().numpy(),
           "forces": results["forces"].detach().double().cpu().numpy()}
    if periodic_3d:
        stress = results["stress"][0].detach().double().cpu().numpy()
        out["stress"] = full_3x3_to_voigt_6_stress(stress)
    if "energy_uncertainty" in results:
        out["energy_uncertainty"] = float(results["energy_uncertainty"][0].detach())
        out["forces_uncertainty"] = results["forces_uncertainty"].detach().double().cpu().numpy()
    return out


def _split_batch(output: dict[str, torch.Tensor], batch: AtomicGraph,
                 images: Sequence[ase.Atoms]) -> list[dict[str, np.ndarray | float]]:
    bounds = batch.ptr.tolist()
    split = []
    for k, atoms in enumerate(images):
        start, stop = bounds[k], bounds[k + 1]
        one = {"energy": output["energy"][k:k + 1], "energies": output["energies"][start:stop],
               "forces": output["forces"][start:stop], "stress": output["stress"][k:k + 1]}
        if "energy_uncertainty" in output:
            one["energy_uncertainty"] = output["energy_uncertainty"][k:k + 1]
            one["forces_uncertainty"] = output["forces_uncertainty"][start:stop]
        split.append(_to_numpy(one, bool(atoms.pbc.all())))
    return split
