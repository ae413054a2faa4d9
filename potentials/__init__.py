"""potentials: E(3)-equivariant machine-learned interatomic potentials for ASE."""

from potentials.graph import AtomicGraph, batch_graphs, from_atoms

__version__ = "0.1.0"

__all__ = ["AtomicGraph", "batch_graphs", "from_atoms", "__version__"]
