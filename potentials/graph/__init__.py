"""The atomic graph: structure, neighbour list with periodic images, batching."""

from potentials.graph.atomic_graph import (
    AtomicGraph,
    batch_graphs,
    build_graph,
    from_atoms,
    labels_from_atoms,
    lookup_label,
    select_edges,
    sum_per_structure,
)
from potentials.graph.neighbours import neighbour_list

__all__ = [
    "AtomicGraph",
    "batch_graphs",
    "build_graph",
    "from_atoms",
    "labels_from_atoms",
    "lookup_label",
    "neighbour_list",
    "select_edges",
    "sum_per_structure",
]
