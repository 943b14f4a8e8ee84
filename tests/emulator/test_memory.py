"""A server process returns the memory of big blocks when it frees them (on glibc, which the project runs on)."""

from __future__ import annotations

import json
import subprocess
import sys

# Big blocks freed while something small allocated after them is still alive: the pattern of a render (Pillow's
# blocks, then the encoded image, kept) or a big body (read, parsed, a journal entry kept).
SCRIPT = """
import json, sys
from emulator.memory import return_large_blocks

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) * 1024

took = return_large_blocks() if sys.argv[1] == "set" else None
kept = []
first = [b"x" * (16 << 20) for _ in range(2)]
del first  # frees two mappings, which raises glibc's adjustable threshold to 16 MiB
before = rss()
blocks = []
for _ in range(6):
    blocks.append(b"x" * (8 << 20))
    kept.append(b"y" * 2000)  # beyond pymalloc: from the same heap, after the block
del blocks
print(json.dumps({"took": took, "grown": rss() - before}))
"""


def run(mode: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_freed_big_blocks_leave_the_process() -> None:
    figures = run("set")
    assert figures["took"] is True
    assert figures["grown"] < 4 << 20, figures


def test_without_it_they_stay() -> None:
    """The cause this module exists for, measured: otherwise the test above could pass for another reason."""
    assert run("unset")["grown"] >= 8 << 20
