"""The serving process's collector policy: start-up objects frozen, survivors of the young collections frozen, no
automatic full collections, everything collected again when the heap has grown enough."""

import asyncio
import gc
import weakref
from collections.abc import Iterator

import pytest

from emulator.core.collector import NEVER, OLDER_YOUNG, QUIET, QUIET_ALLOCATIONS, Collector


class Heap:
    def __init__(self) -> None:
        self.blocks = 1000
        self.young = 0  # net objects made since the last young collection
        self.collections = 0  # young collections since the last generation-1 one

    def counts(self) -> tuple[int, int, int]:
        return self.young, self.collections, 0

    def busy(self) -> None:
        self.collections += 1


class Node:
    other: object = None


@pytest.fixture
def heap() -> Iterator[Heap]:
    yield Heap()


@pytest.fixture
def installed(heap: Heap) -> Iterator[Collector]:
    made = Collector(blocks=lambda: heap.blocks, counts=heap.counts, interval=0.01)
    made.install()
    yield made
    made.uninstall()


def test_install_freezes_what_exists_collects_the_older_young_generation_often_and_no_full_collections(
    heap: Heap,
) -> None:
    before = gc.get_threshold()
    made = Collector(blocks=lambda: heap.blocks)
    made.install()
    try:
        assert made.installed and gc.get_freeze_count() > 0
        assert gc.get_threshold() == (before[0], OLDER_YOUNG, NEVER)
        made.install()  # a second install changes nothing
        assert gc.get_threshold() == (before[0], OLDER_YOUNG, NEVER)
    finally:
        made.uninstall()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    made.uninstall()  # harmless when not installed


def test_what_survives_the_older_young_generation_is_frozen(installed: Collector) -> None:
    kept = [[index] for index in range(1000)]
    frozen = gc.get_freeze_count()
    gc.collect(0)
    # The youngest generation freezes nothing more (frozen objects may die meanwhile: the count never grows).
    assert installed.freezes == 0 and gc.get_freeze_count() <= frozen
    gc.collect(1)
    assert installed.freezes == 1
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert not gc.get_objects(2)  # nothing piles up in the oldest generation for a full collection to walk
    del kept


def test_young_cycles_are_still_collected(installed: Collector) -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    del first, second
    gc.collect(1)
    assert alive() is None


def test_cycles_frozen_while_in_use_are_found_by_the_thorough_collection(installed: Collector) -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    gc.collect(1)  # survives, so it is frozen
    del first, second
    gc.collect(1)
    assert alive() is not None  # young collections do not walk frozen objects
    installed.collect_all()
    assert alive() is None


def test_a_flat_heap_is_never_collected_thoroughly(heap: Heap, installed: Collector) -> None:
    for blocks in (1000, 1700, 900, 1750, 1000) * 5:
        heap.blocks = blocks
        assert not installed.check()
    assert installed.thorough == 0


def test_a_heap_that_doubled_is_collected_thoroughly_once_the_process_is_quiet(
    heap: Heap, installed: Collector
) -> None:
    heap.blocks = 2001
    heap.busy()
    assert not installed.check()  # under load: doubling is not enough
    for _ in range(QUIET - 1):
        assert not installed.check()
    assert installed.check()
    assert installed.thorough == 1
    heap.blocks = 3000  # measured from what the thorough collection left: 2001
    for _ in range(QUIET + 1):
        assert not installed.check()


def test_a_heap_that_grew_fourfold_is_collected_thoroughly_whatever_the_load(heap: Heap, installed: Collector) -> None:
    heap.blocks = 4000
    heap.busy()
    assert not installed.check()
    heap.blocks = 4001
    heap.busy()
    assert installed.check()


def test_allocations_keep_the_process_from_being_quiet(heap: Heap, installed: Collector) -> None:
    heap.blocks = 2001
    for _ in range(3 * QUIET):
        heap.young += QUIET_ALLOCATIONS
        assert not installed.check()


def test_growth_counts_from_the_lowest_point_since_the_last_thorough_collection(
    heap: Heap, installed: Collector
) -> None:
    heap.blocks = 400  # a reset freed most of the heap
    assert not installed.check()
    heap.blocks = 1601
    assert installed.check()


async def test_run_checks_every_interval_until_cancelled(heap: Heap, installed: Collector) -> None:
    runner = asyncio.ensure_future(installed.run())
    heap.blocks = 5000
    for _ in range(200):
        await asyncio.sleep(0.01)
        if installed.thorough:
            break
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert installed.thorough == 1


def test_the_real_heap_measure_counts_objects() -> None:
    made = Collector()
    before = made._blocks()
    kept: list[list[int]] = [[] for _ in range(10_000)]
    assert made._blocks() >= before + 9_000
    del kept


def test_while_the_retention_fills_growth_under_load_brings_no_thorough_collection(heap: Heap) -> None:
    full = [False]
    made = Collector(blocks=lambda: heap.blocks, counts=heap.counts, settled=lambda: full[0])
    made.install()
    try:
        heap.blocks = 9000  # filling: ninefold, under load
        heap.busy()
        assert not made.check()
        full[0] = True
        heap.blocks = 9500
        heap.busy()
        assert not made.check()  # the retention is full at 9500: that is where growth counts from now
        heap.blocks = 4 * 9500
        heap.busy()
        assert not made.check()
        heap.blocks = 4 * 9500 + 1
        heap.busy()
        assert made.check()
    finally:
        made.uninstall()


def test_while_the_retention_fills_a_quiet_process_is_still_collected(heap: Heap) -> None:
    made = Collector(blocks=lambda: heap.blocks, counts=heap.counts, settled=lambda: False)
    made.install()
    try:
        heap.blocks = 2001
        assert not any(made.check() for _ in range(QUIET - 1))
        assert made.check()
    finally:
        made.uninstall()
