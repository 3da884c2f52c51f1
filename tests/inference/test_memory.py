"""The allocator setting used by analyze: applied once, idempotent, and it really gives freed frame-sized
buffers back to the OS (checked in fresh processes, since the setting lasts for the process)."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from oocyteseg.inference.memory import limit_allocator_growth

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
SRC = Path(__file__).resolve().parents[2] / "src"

# 100 buffers of 1 MB (a 480x640 RGB frame is 0.9 MB), each followed by a 40 kB block that stays, then the
# buffers are freed: prints how many MB of resident memory the process kept.
PROBE = r"""
import ctypes, ctypes.util, os, sys
sys.path.insert(0, sys.argv[2])
if sys.argv[1] == "on":
    from oocyteseg.inference.memory import limit_allocator_growth
    assert limit_allocator_growth()
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
rss = lambda: int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
MB = 1 << 20
p = libc.malloc(MB); ctypes.memset(p, 1, MB); libc.free(p)
before, big, keep = rss(), [], []
for _ in range(100):
    q = libc.malloc(MB); ctypes.memset(q, 1, MB); big.append(q); keep.append(libc.malloc(40000))
for q in big:
    libc.free(q)
print((rss() - before) / MB)
"""


def test_limit_allocator_growth_is_idempotent():
    first = limit_allocator_growth()
    assert limit_allocator_growth() == first
    if GLIBC:
        assert first is True


def _kept_mb(setting: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, setting, str(SRC)], capture_output=True, text=True,
                         check=True, timeout=120)
    return float(out.stdout.strip())


@pytest.mark.skipif(not GLIBC, reason="the setting is glibc's mallopt; elsewhere it is a no-op")
def test_freed_frame_buffers_go_back_to_the_os():
    assert _kept_mb("on") < 10  # with the setting: the 100 MB of freed buffers are returned
    assert _kept_mb("off") > 50  # the control: glibc's default keeps them (what made RSS creep)
