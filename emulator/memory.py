"""Give freed memory back to the system after big requests.

glibc raises its mmap threshold each time a large block is freed, so after a few 10 MB bodies later large
buffers come from the heap and stay in the process when freed: RSS only grows (the reliability audit measured
+1.3 GB after 25 such requests). Pinning the threshold keeps every block of 1 MiB and more in its own mapping,
returned to the system the moment it is freed. A no-op off glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
THRESHOLD = 2**20


def return_large_blocks() -> bool:
    """Pin glibc's mmap threshold; True when it was applied."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    except (OSError, AttributeError):
        return False
