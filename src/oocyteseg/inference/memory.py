"""Keep the C allocator from creeping: large frame buffers straight from and back to the OS.

With several threads allocating and freeing ~1 MB frame buffers, glibc's malloc raises its mmap
threshold after the first frees and gives each thread its own arena, so freed buffers stay in the
heaps and the resident memory creeps up with the video's length (measured: ~10 KB per frame on a
480x640 video). Fixing the mmap threshold at 128 KiB and capping the arenas at 2 keeps it flat
(docs/performance.md). No-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
_done = False


def limit_allocator_growth(mmap_threshold: int = 128 * 1024, arena_max: int = 2) -> bool:
    """Set glibc's mmap threshold and arena cap once per process; returns True when applied."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_ARENA_MAX, arena_max))
    return _done
