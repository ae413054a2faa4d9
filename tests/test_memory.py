"""The allocator settings: a freed large block is reused without new page faults, and
importing potentials before torch gives torch huge pages (one fault per 2 MiB, not 4 KiB)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

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


REUSE_ABOVE_2_GIB = """
import resource
import torch
from potentials.memory import keep_freed_memory
assert keep_freed_memory()
for _ in range(2):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = torch.ones(5 * 2**29 // 4, dtype=torch.float32)  # 2.5 GiB
    del block
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc on Linux only")
def test_freed_block_above_2_gib_is_not_trimmed():
    if not keep_freed_memory():
        pytest.skip("the C library is not glibc: nothing to set")
    result = subprocess.run([sys.executable, "-c", REUSE_ABOVE_2_GIB],
                            capture_output=True, text=True, check=True)
    first, second = (int(word) for word in result.stdout.split())
    assert second < 0.05 * first


FAULTS_OF_A_FRESH_BLOCK = f"""
import resource
import potentials
import torch
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = torch.ones({BLOCK_BYTES // 8}, dtype=torch.float64)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def faults_in_fresh_process(huge_pages: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if huge_pages is not None:
        env["THP_MEM_ALLOC_ENABLE"] = huge_pages
    result = subprocess.run([sys.executable, "-c", FAULTS_OF_A_FRESH_BLOCK], env=env,
                            capture_output=True, text=True, check=True)
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not THP_SETTING.exists() or "[never]" in THP_SETTING.read_text(),
                    reason="the kernel offers no transparent huge pages")
def test_import_requests_huge_pages_unless_user_says_no():
    pages = BLOCK_BYTES // PAGE_BYTES
    assert faults_in_fresh_process(None) < 0.05 * pages
    assert faults_in_fresh_process("0") > 0.9 * pages
