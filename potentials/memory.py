"""Keeping freed memory in the process: the allocator setting that makes the cost linear.

One energy+forces evaluation allocates and frees tensors of up to hundreds of MB (per-edge
features and what autograd saves of them). glibc's malloc serves blocks above its mmap
threshold (at most 32 MB) with fresh pages from the kernel and returns them on free, and it
trims the top of the heap when much of it is free; every new block is then paid for again
with one page fault per 4 KiB page. On the 2-core virtual machines we measure on, those
faults cost more than the arithmetic: acetylacetone in a periodic box took 240 ms per
energy+forces call at 120 atoms and 2,848 ms at 960 atoms (2.0 ms and 3.0 ms per atom), and
180 ms and 1,348 ms (1.5 and 1.4 ms per atom, linear in the number of atoms) once freed memory
stays in the process (``docs/benchmarks.md``). A training step of batch 5 gains about 15 %.

The price is that the process keeps its peak resident memory after the peak has passed,
which is what a long MD run or training wants anyway. Other C libraries (macOS, musl) are
left as they are.

Above a few thousand atoms one page fault per 4 KiB still costs: torch's CPU allocator can
ask the kernel for transparent huge pages (2 MiB) for large blocks, if the environment
variable ``THP_MEM_ALLOC_ENABLE=1`` is set before torch allocates its first tensor. At 7,680
atoms that took a float64 call from 19.4 s to 12.3 s on our machine; it changed nothing
measurable at 120 and 960 atoms.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_TRIM_NEVER = -1
"""mallopt takes an int and glibc stores the trim threshold as a size_t, so -1 becomes the
largest size: the heap top is never returned. The largest positive int (2**31 - 1) is not
enough: a 7,680-atom float64 call frees more than 2 GiB at once, and the trimmed pages were
faulted back on every call (2 to 9 s of kernel time per call, 0 to 4 s with -1)."""

_kept = False


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to serve large blocks from the heap and never trim it.

    Idempotent; returns True if the setting is in force (glibc on Linux), False where the C
    library is not glibc and nothing was changed.
    """
    global _kept
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    _kept = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_NEVER))
    return _kept


HUGE_PAGES_VARIABLE = "THP_MEM_ALLOC_ENABLE"
"""torch's switch for transparent huge pages in its CPU allocator, read once, at the first
CPU allocation of the process."""


def request_huge_pages() -> bool:
    """Set ``THP_MEM_ALLOC_ENABLE=1`` unless the user set it; True if it is now "1".

    Must run before torch allocates anything, so `potentials` calls it on import, before it
    imports torch: a script that imported and used torch first keeps 4 KiB pages (correct,
    slower above a few thousand atoms). An explicit ``THP_MEM_ALLOC_ENABLE=0`` is respected.
    """
    return os.environ.setdefault(HUGE_PAGES_VARIABLE, "1") == "1"
