"""The allocator setting used by analyze: applied once, idempotent, harmless elsewhere."""

from __future__ import annotations

import platform

import numpy as np

from oocyteseg.inference.memory import limit_allocator_growth


def test_limit_allocator_growth_is_idempotent():
    first = limit_allocator_growth()
    assert limit_allocator_growth() == first
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert first is True
    big = np.ones((480, 640, 3), np.uint8)  # allocations still work
    assert int(big.sum()) == 480 * 640 * 3
