"""Keeping freed memory for reuse, as PyTorch's caching allocator does — when you ask for it.

Every primitive returns a fresh numpy array, and a training step frees almost all of them
at its end. With its default settings glibc's malloc serves each array over 128 KB by a new
mmap, or hands a large freed heap top back to the operating system, so the next step takes
a page fault on every 4 KB page it touches and the kernel zeroes each one: in a LeNet-5
step at batch 64 that was ~2,200 faults and more than half the time. Asking malloc to serve
arrays up to 32 MB from its heap and to keep up to 256 MB of freed memory makes the next
step reuse the same pages instead (0 faults per step; peak memory is unchanged).

The setting is the whole process's (every library in it allocates through the same malloc),
so minigrad never makes it by itself: call ``mg.memory.keep_freed_memory()`` once, at the
start of a training script, as the examples and benchmarks do.
"""

from __future__ import annotations

import ctypes
import platform

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers, from glibc's <malloc.h>


def keep_freed_memory(largest: int = 32 << 20, keep: int = 256 << 20) -> bool:
    """Asks glibc's malloc to serve blocks up to ``largest`` bytes from its heap, and to keep
    up to ``keep`` bytes of freed heap for reuse rather than returning them to the system.

    Returns whether malloc took both settings (False where the C library is not glibc).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    mallopt = ctypes.CDLL(None).mallopt
    return all([mallopt(_M_MMAP_THRESHOLD, largest), mallopt(_M_TRIM_THRESHOLD, keep)])
