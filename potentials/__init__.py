"""potentials: E(3)-equivariant machine-learned interatomic potentials for ASE."""

__version__ = "0.1.0"

from potentials.memory import keep_freed_memory, request_huge_pages  # noqa: E402

request_huge_pages()  # before the imports below load torch

from potentials.calculator import EquiCalculator  # noqa: E402
from potentials.graph import AtomicGraph, batch_graphs, from_atoms  # noqa: E402
from potentials.model import load_model, predict, save_model  # noqa: E402

__all__ = [
    "AtomicGraph",
    "EquiCalculator",
    "__version__",
    "batch_graphs",
    "from_atoms",
    "keep_freed_memory",
    "load_model",
    "predict",
    "request_huge_pages",
    "save_model",
]
