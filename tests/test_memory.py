"""The allocator settings: a freed large block is reused without new page faults, and
importing potentials before torch gives torch huge pages (one fault per 2 MiB, not 4 KiB)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from potentials.memory import keep_freed_memory

BLOCK_BYTES = 256 * 2**20
PAGE_BYTES = 4096


FAULTS_SCRIPT = """
import resource
{setup}
import torch
for _ in range({repeats}):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = torch.ones({n_bytes} // 8, dtype=torch.float64)
    del block
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
"""Minor page faults of allocating, filling and freeing a block, ``repeats`` times, in a
fresh process that first runs ``setup``."""


def faults_in_fresh_process(setup: str, n_bytes: int, repeats: int = 1,
                            env: dict[str, str] | None = None) -> list[int]:
    script = FAULTS_SCRIPT.format(setup=setup, n_bytes=n_bytes, repeats=repeats)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True)
    return [int(word) for word in result.stdout.split()]


KEEP_FREED = "from potentials.memory import keep_freed_memory\nassert keep_freed_memory()"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc on Linux only")
def test_second_large_block_reuses_freed_pages():
    if not keep_freed_memory():
        pytest.skip("the C library is not glibc: nothing to set")
    assert keep_freed_memory()  # idempotent
    small_pages = {**os.environ, "THP_MEM_ALLOC_ENABLE": "0"}  # else 2 MiB pages hide faults
    _, second = faults_in_fresh_process(KEEP_FREED, BLOCK_BYTES, repeats=2, env=small_pages)
    assert second < 0.05 * BLOCK_BYTES // PAGE_BYTES  # the first block grew the heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc on Linux only")
def test_freed_block_above_2_gib_is_not_trimmed():
    if not keep_freed_memory():
        pytest.skip("the C library is not glibc: nothing to set")
    first, second = faults_in_fresh_process(KEEP_FREED, 5 * 2**29, repeats=2)  # 2.5 GiB
    assert second < 0.05 * first


THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def faults_with_huge_pages_setting(huge_pages: str | None) -> int:
    """Faults of a fresh 256 MB block after ``import potentials``, THP_MEM_ALLOC_ENABLE unset
    (None) or set to ``huge_pages``."""
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if huge_pages is not None:
        env["THP_MEM_ALLOC_ENABLE"] = huge_pages
    return faults_in_fresh_process("import potentials", BLOCK_BYTES, env=env)[0]


@pytest.mark.skipif(not THP_SETTING.exists() or "[never]" in THP_SETTING.read_text(),
                    reason="the kernel offers no transparent huge pages")
def test_import_requests_huge_pages_unless_user_says_no():
    pages = BLOCK_BYTES // PAGE_BYTES
    assert faults_with_huge_pages_setting(None) < 0.05 * pages
    assert faults_with_huge_pages_setting("0") > 0.9 * pages
