"""The serving process's collector policy: start-up objects frozen, no automatic full collections, a sweep of what
was promoted since the last one (its survivors frozen), everything collected again when the heap has doubled."""

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from emulator.core.collector import NEVER, Collector


class Heap:
    def __init__(self) -> None:
        self.blocks = 1000
        self.promoted = 0


@pytest.fixture
def heap() -> Iterator[Heap]:
    yield Heap()


@pytest.fixture
def installed(heap: Heap) -> Iterator[Collector]:
    made = Collector(blocks=lambda: heap.blocks, promoted=lambda: heap.promoted, interval=0.01)
    made.install()
    yield made
    made.uninstall()


def test_install_freezes_what_exists_and_turns_off_automatic_full_collections(heap: Heap) -> None:
    before = gc.get_threshold()
    made = Collector(blocks=lambda: heap.blocks)
    made.install()
    try:
        assert made.installed and gc.get_freeze_count() > 0
        assert gc.get_threshold() == (before[0], before[1], NEVER)
        made.install()  # a second install changes nothing
        assert gc.get_threshold() == (before[0], before[1], NEVER)
    finally:
        made.uninstall()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    made.uninstall()  # harmless when not installed


def test_nothing_promoted_nothing_collected(heap: Heap, installed: Collector) -> None:
    assert installed.check() is None
    assert (installed.sweeps, installed.thorough) == (0, 0)


def test_promotions_are_swept_and_what_survives_is_frozen(heap: Heap, installed: Collector) -> None:
    kept = [[index] for index in range(1000)]  # young objects that will survive
    heap.promoted = 1
    frozen = gc.get_freeze_count()
    assert installed.check() == "sweep"
    assert installed.sweeps == 1
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert gc.get_count()[2] == 0  # nothing left in the oldest generation to walk next time
    del kept


def test_cycles_are_collected_by_the_sweep_that_follows_them(installed: Collector) -> None:
    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    gc.collect(1)  # promoted out of the young generations, as steady load would
    del first, second
    installed.sweep()
    assert alive() is None


def test_cycles_frozen_while_in_use_are_found_by_the_thorough_collection(installed: Collector) -> None:
    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    installed.sweep()  # frozen while still in use
    del first, second
    installed.sweep()
    assert alive() is not None  # a sweep does not walk frozen objects
    installed.collect_all()
    assert alive() is None


def test_a_heap_that_doubled_is_collected_thoroughly(heap: Heap, installed: Collector) -> None:
    heap.blocks = 2000
    heap.promoted = 1
    assert installed.check() == "sweep"
    heap.blocks = 2001
    assert installed.check() == "thorough"
    assert installed.thorough == 1
    heap.blocks, heap.promoted = 3000, 0  # measured from what the thorough collection left: 2001
    assert installed.check() is None


def test_growth_counts_from_the_lowest_point_since_the_last_thorough_collection(
    heap: Heap, installed: Collector
) -> None:
    heap.blocks = 400  # a reset freed most of the heap
    assert installed.check() is None
    heap.blocks = 801
    assert installed.check() == "thorough"


async def test_run_checks_every_interval_until_cancelled(heap: Heap, installed: Collector) -> None:
    runner = asyncio.ensure_future(installed.run())
    heap.promoted = 1
    for _ in range(200):
        await asyncio.sleep(0.01)
        if installed.sweeps:
            break
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert installed.sweeps >= 1


def test_the_real_heap_measure_counts_objects() -> None:
    made = Collector()
    before = made._blocks()
    kept: list[list[int]] = [[] for _ in range(10_000)]
    assert made._blocks() >= before + 9_000
    del kept
