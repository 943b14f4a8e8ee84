"""A server process returns the memory of big blocks when it frees them (on glibc, which the project runs on)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections import Counter

import pytest

from tests.conftest import EmulatorFactory
from tests.emulator.faults.drivers import DRIVERS

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


@pytest.mark.parametrize("surface", sorted(DRIVERS))
async def test_records_and_jobs_past_retention_are_freed_without_a_full_collection(
    make_emulator: EmulatorFactory, surface: str
) -> None:
    """A serving process walks everything only rarely (core/collector.py), so what leaves retention must not be a
    cycle: a record and its job pointing at each other were, for every surface's evicted task."""
    emulator = await make_emulator(job_retention=3)
    driver = DRIVERS[surface](emulator.client)
    gc.collect()
    gc.disable()
    try:
        for _ in range(12):
            _, job = await driver.submit()
            assert job is not None
            await driver.poll(job)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        cyclic = Counter(type(found).__name__ for found in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert cyclic["Job"] == 0, cyclic.most_common(8)
