"""Polling with backoff until a job is terminal, bounded by a wall-clock deadline; sync and async.

The first poll comes `interval` seconds after the job was created; each further wait is 1.5 times
the previous one, capped at `max_interval`. Polling stops the moment `check()` reports a result and
gives up with PollTimeout once the deadline has passed. The last wait is shortened to end at the
deadline, so the job gets its whole window and one final look.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from ._errors import PollTimeout

T = TypeVar("T")

GROWTH = 1.5


@dataclass(frozen=True)
class Deadline:
    """When waiting for a job has to stop (time.monotonic() seconds), and the error that says so."""

    at: float
    seconds: float
    provider: str
    job_id: str | None = None

    @classmethod
    def after(cls, seconds: float, provider: str) -> Deadline:
        return cls(time.monotonic() + seconds, seconds, provider)

    def for_job(self, job_id: str) -> Deadline:
        return replace(self, job_id=job_id)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self) -> PollTimeout:
        return PollTimeout(
            f"the job did not finish within {self.seconds:g} s", provider=self.provider, job_id=self.job_id
        )


@dataclass
class PollSchedule:
    interval: float
    max_interval: float
    deadline: Deadline

    def next_delay(self) -> float:
        """Seconds to sleep before the next poll; raises PollTimeout when no time is left."""
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise self.deadline.expired()
        delay = min(self.interval, remaining)
        self.interval = min(self.interval * GROWTH, self.max_interval)
        return delay


def poll(check: Callable[[], T | None], schedule: PollSchedule) -> T:
    """Call `check` on the schedule until it returns something other than None."""
    while True:
        time.sleep(schedule.next_delay())
        result = check()
        if result is not None:
            return result


async def apoll(check: Callable[[], Awaitable[T | None]], schedule: PollSchedule) -> T:
    while True:
        await asyncio.sleep(schedule.next_delay())
        result = await check()
        if result is not None:
            return result
