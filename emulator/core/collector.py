"""Keeping the cyclic garbage collector off the request path of a serving process.

CPython 3.11 collects its oldest generation whenever the objects promoted into it since the last full collection
outnumber a quarter of those that survived it, and a full collection walks every container object there is. A
retained job is several containers (the job, its timeline, its events, the surface's record, the spec of its
images) that live as long as the retention, so under steady load each request promotes some, and every few tens
of thousands of requests a collection walked all of them: with the default retention (100,000 jobs) it held every
request in flight for half a second or more, longer the more jobs were kept. Jobs that leave the retention are
freed by reference counting the moment they go; they counted as promotions all the same.

A serving process therefore (`Collector.install`) keeps a generation of its own beyond CPython's oldest one, the
objects that have already survived a full collection, which no routine collection walks again:

1. what exists once the app is built (modules, schemas, routes) is frozen (`gc.freeze`): it lives as long as the
   process;
2. the automatic full collection is off; the young collections, which find the short-lived cycles of requests, run
   as before;
3. every `interval` (a quarter of a second), if anything was promoted meanwhile, a full collection runs and its
   survivors are frozen in turn. It walks only what was promoted since the previous one: a few thousand objects,
   however many jobs are kept, so a few milliseconds;
4. when the heap (pymalloc's count of allocated blocks) has doubled since the last thorough collection, everything
   is unfrozen and collected once: cyclic garbage that was frozen while still in use (a record and its job pointing
   at each other, evicted together later) is found there. Steady load with a full retention never doubles the
   heap; filling it from empty does, a few times.

Process-wide state, so only the server's own process installs it (`seedream-emulator serve`), never `create_app`.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable

INTERVAL = 0.25
GROWTH = 1.0
# gc thresholds are C ints; a count of generation-1 collections this high is never reached.
NEVER = 2**31 - 1


class Collector:
    def __init__(
        self,
        *,
        interval: float = INTERVAL,
        growth: float = GROWTH,
        blocks: Callable[[], int] = sys.getallocatedblocks,
        promoted: Callable[[], int] = lambda: gc.get_count()[2],
    ) -> None:
        self.interval = interval
        self.growth = growth
        self.sweeps = 0
        self.thorough = 0
        self._blocks = blocks
        self._promoted = promoted
        self._floor = 0
        self._saved: tuple[int, int, int] | None = None

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        """Freeze the objects that exist now and take over full collections (once; `uninstall` undoes it)."""
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(self._saved[0], self._saved[1], NEVER)
        self._floor = self._blocks()

    def uninstall(self) -> None:
        if self._saved is None:
            return
        gc.set_threshold(*self._saved)
        gc.unfreeze()
        self._saved = None

    def check(self) -> str | None:
        """One look: a thorough collection if the heap has grown by `growth`, else a sweep of what was promoted
        since the last one, if anything was; which of them ran."""
        blocks = self._blocks()
        if blocks > self._floor * (1 + self.growth):
            self.collect_all()
            return "thorough"
        self._floor = min(self._floor, blocks)
        if self._promoted() > 0:
            self.sweep()
            return "sweep"
        return None

    def sweep(self) -> None:
        """Collect what is not frozen (promoted since the last sweep, and the young generations), freeze the rest."""
        gc.collect()
        gc.freeze()
        self.sweeps += 1

    def collect_all(self) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.thorough += 1
        self._floor = self._blocks()

    async def run(self) -> None:
        """Check every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            self.check()
