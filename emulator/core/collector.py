"""Keeping the cyclic garbage collector off the request path of a serving process.

CPython 3.11 collects its oldest generation whenever the objects promoted into it since the last full collection
outnumber a quarter of those that survived it, and a full collection walks every container object there is. A
retained job is several containers (the job, its timeline, its events, the surface's record, the spec of its
images) that live as long as the retention, so under steady load each request promotes some, and every few tens
of thousands of requests a collection walked all of them: with the default retention (100,000 jobs) it held every
request in flight for half a second or more, longer the more jobs were kept. Jobs that leave the retention are
freed by reference counting the moment they go (a Runware request leaves no cyclic garbage at all); they counted
as promotions all the same.

A serving process therefore (`Collector.install`) keeps a generation of its own beyond CPython's oldest one, which no
routine collection walks:

1. what exists once the app is built (modules, schemas, routes) is frozen (`gc.freeze`): it lives as long as the
   process;
2. the young collections run as before, and find the short-lived cycles of requests; whatever survives the older
   young generation is frozen as soon as that collection ends, instead of piling up in the oldest generation, and
   the automatic full collection is off. Pauses are those of the young collections: milliseconds, however many
   jobs are kept. The older young generation is collected every OLDER_YOUNG collections of the youngest instead of
   CPython's 10: it walks every request's survivors since its last run (about 15 containers a retained Runware
   job), and ten young collections' worth, some 1,400 requests, held a server for up to 27 ms;
3. everything is unfrozen and collected once more, for cyclic garbage that was frozen while still in use (a record
   and its job pointing at each other, evicted together later), when the heap (pymalloc's count of allocated
   blocks) has doubled since the last time and the process has been quiet for a second (no young collection, few
   allocations), or, once the job retention is full (`settled`), has grown fourfold since then whatever the load.
   While the retention fills, its growth is what the heap grows by, and no collection can give that back: a
   thorough one under load would only hold every request (0.9 and 1.2 s measured near 100,000 jobs), so until then
   only a quiet second brings one. The garbage that can pile up meanwhile is bounded by the requests it takes to
   fill the retention; evicted records and jobs leave none (`JobEngine` lets a job's record go when it evicts it).

Process-wide state, so only the server's own process installs it (`seedream-emulator serve`), never `create_app`.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable
from typing import Any

INTERVAL = 0.1
GROWTH = 1.0  # a thorough collection once quiet, when the heap has doubled
VALVE = 3.0  # a thorough collection at once, when it has grown fourfold
QUIET = 10  # intervals without a young collection and with fewer than QUIET_ALLOCATIONS net new objects each
QUIET_ALLOCATIONS = 200
OLDER_YOUNG = 3
# gc thresholds are C ints; a count of generation-1 collections this high is never reached.
NEVER = 2**31 - 1


class Collector:
    def __init__(
        self,
        *,
        interval: float = INTERVAL,
        growth: float = GROWTH,
        valve: float = VALVE,
        blocks: Callable[[], int] = sys.getallocatedblocks,
        counts: Callable[[], tuple[int, int, int]] = gc.get_count,
        settled: Callable[[], bool] | None = None,  # None: settled from the start
    ) -> None:
        self.interval = interval
        self.growth = growth
        self.valve = valve
        self.freezes = 0
        self.thorough = 0
        self._blocks = blocks
        self._counts = counts
        self._settled = settled
        self._was_settled = settled is None
        self._floor = 0
        self._quiet = 0
        self._last = (0, 0, 0)
        self._saved: tuple[int, int, int] | None = None

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        """Freeze the objects that exist now and take over the oldest generation (once; `uninstall` undoes it)."""
        if self._saved is not None:
            return
        self._saved = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(self._saved[0], OLDER_YOUNG, NEVER)
        gc.callbacks.append(self._collected)
        self._floor = self._blocks()
        self._last = self._counts()

    def uninstall(self) -> None:
        if self._saved is None:
            return
        gc.callbacks.remove(self._collected)
        gc.set_threshold(*self._saved)
        gc.unfreeze()
        self._saved = None

    def _collected(self, phase: str, info: dict[str, Any]) -> None:
        # The older young generation was just collected: its survivors sit alone in the oldest one. Freezing merges
        # lists, whatever their length.
        if phase == "stop" and info["generation"] == 1:
            gc.freeze()
            self.freezes += 1

    def check(self) -> bool:
        """One look: a thorough collection if the heap has grown enough (by `growth` once the process is quiet, by
        `valve` once settled, whatever the load); whether one ran."""
        counts, blocks = self._counts(), self._blocks()
        if not self._was_settled and self._settled is not None and self._settled():
            # What grew the heap so far was the retention filling; from here on growth is something else.
            self._was_settled = True
            self._floor = blocks
        young = counts[0] - self._last[0]
        self._quiet = self._quiet + 1 if counts[1:] == self._last[1:] and 0 <= young < QUIET_ALLOCATIONS else 0
        self._last = counts
        grown = self._was_settled and blocks > self._floor * (1 + self.valve)
        if grown or (blocks > self._floor * (1 + self.growth) and self._quiet >= QUIET):
            self.collect_all()
            return True
        self._floor = min(self._floor, blocks)
        return False

    def collect_all(self) -> None:
        """Walk everything once, frozen or not; freeze what survives."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.thorough += 1
        self._floor = self._blocks()
        self._last = self._counts()

    async def run(self) -> None:
        """Check every `interval` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            self.check()
