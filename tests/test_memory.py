"""The allocator settings: a freed large block stays resident in the process (the next one
is then served without page faults), and importing potentials before torch gives torch huge
pages (one fault per 2 MiB, not 4 KiB)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from potentials.memory import keep_freed_memory

BLOCK_BYTES = 256 * 2**20
PAGE_BYTES = 4096


def run_fresh(script: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True)
    return result.stdout


KEPT_SCRIPT = """
import ctypes, os
{setup}
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
before = resident_bytes()
block = libc.malloc({n_bytes})
ctypes.memset(block, 1, {n_bytes})
libc.free(block)
print(resident_bytes() - before)
"""
"""Resident bytes gained by writing and freeing one malloc'd block, in a fresh process that
first runs ``setup``. Nothing is allocated between malloc and free, so the block sits at the
top of the heap when freed: a trimmed heap top or an unmapped block shows as ~0 bytes."""


def kept_fraction(setup: str, n_bytes: int) -> float:
    return int(run_fresh(KEPT_SCRIPT.format(setup=setup, n_bytes=n_bytes))) / n_bytes


KEEP_FREED = "from potentials.memory import keep_freed_memory\nassert keep_freed_memory()"

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                                reason="the setting exists for glibc malloc on Linux only")


@glibc_only
def test_freed_large_block_stays_resident():
    assert keep_freed_memory()  # idempotent
    assert kept_fraction("", BLOCK_BYTES) < 0.05  # glibc's default: mmap'd, unmapped on free
    assert kept_fraction(KEEP_FREED, BLOCK_BYTES) > 0.95


@glibc_only
def test_freed_block_above_2_gib_is_not_trimmed():
    assert kept_fraction(KEEP_FREED, 5 * 2**29) > 0.95  # 2.5 GiB: a trim threshold of
    # 2**31 - 1 bytes returned it to the kernel


FAULTS_SCRIPT = """
import resource
import potentials
import torch
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
block = torch.ones({n_bytes} // 8, dtype=torch.float64)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
"""Minor page faults of allocating and filling a torch tensor after ``import potentials``."""

THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def faults_with_huge_pages_setting(huge_pages: str | None) -> int:
    """Faults of a fresh 256 MB block, THP_MEM_ALLOC_ENABLE unset (None) or ``huge_pages``."""
    env = {k: v for k, v in os.environ.items() if k != "THP_MEM_ALLOC_ENABLE"}
    if huge_pages is not None:
        env["THP_MEM_ALLOC_ENABLE"] = huge_pages
    return int(run_fresh(FAULTS_SCRIPT.format(n_bytes=BLOCK_BYTES), env=env))


@pytest.mark.skipif(not THP_SETTING.exists() or "[never]" in THP_SETTING.read_text(),
                    reason="the kernel offers no transparent huge pages")
def test_import_requests_huge_pages_unless_user_says_no():
    pages = BLOCK_BYTES // PAGE_BYTES
    assert faults_with_huge_pages_setting(None) < 0.05 * pages
    assert faults_with_huge_pages_setting("0") > 0.9 * pages
