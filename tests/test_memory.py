"""keep_freed_memory: a freed large block is reused without new page faults."""

from __future__ import annotations

import resource
import sys

import pytest
import torch

from potentials.memory import keep_freed_memory

BLOCK_BYTES = 256 * 2**20
PAGE_BYTES = 4096


def faults_of_touching_a_new_block() -> int:
    """Minor page faults while allocating, filling and freeing a 256 MB tensor."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = torch.ones(BLOCK_BYTES // 8, dtype=torch.float64)
    del block
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc on Linux only")
def test_second_large_block_reuses_freed_pages():
    if not keep_freed_memory():
        pytest.skip("the C library is not glibc: nothing to set")
    assert keep_freed_memory()  # idempotent
    faults_of_touching_a_new_block()  # the heap grows once
    pages = BLOCK_BYTES // PAGE_BYTES
    assert faults_of_touching_a_new_block() < 0.05 * pages
