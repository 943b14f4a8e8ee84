"""Many deadlines under one event-loop timer.

A timer armed and cancelled for every request (`call_later`, `asyncio.timeout`, `wait_for`) costs a few
microseconds each time, more than reading a small body whole, and almost none of them ever fires. Here a deadline
is a dict entry; the one timer is armed for the earliest deadline known when it was set, and looks at the entries
only when it fires. Setting a later deadline, or clearing one, touches the dict alone.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Deadlines(Generic[K]):
    """Deadlines by key on one event loop; `expire(key)` is called for each that passes before it is cleared."""

    __slots__ = ("_deadlines", "_expire", "_handle", "_loop", "_when")

    def __init__(self, loop: asyncio.AbstractEventLoop, expire: Callable[[K], None]) -> None:
        self._loop = loop
        self._expire = expire
        self._deadlines: dict[K, float] = {}
        self._handle: asyncio.TimerHandle | None = None
        self._when = math.inf

    def set(self, key: K, seconds: float) -> None:
        """`key` expires `seconds` from now (replacing its deadline, if it had one)."""
        deadline = self._deadlines[key] = self._loop.time() + seconds
        if deadline < self._when:
            self._arm(deadline)

    def clear(self, key: K) -> None:
        self._deadlines.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._deadlines

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._when = when
        self._handle = self._loop.call_at(when, self._check)

    def _check(self) -> None:
        self._handle, self._when = None, math.inf
        now = self._loop.time()
        expired = [key for key, deadline in self._deadlines.items() if deadline <= now]
        for key in expired:
            del self._deadlines[key]
        if self._deadlines:
            self._arm(min(self._deadlines.values()))
        for key in expired:
            self._expire(key)


class PerLoop(Generic[T]):
    """One `make(loop)` per event loop (tests run many loops; a closed loop's is let go when a new one comes)."""

    __slots__ = ("_made", "_make")

    def __init__(self, make: Callable[[asyncio.AbstractEventLoop], T]) -> None:
        self._make = make
        self._made: dict[asyncio.AbstractEventLoop, T] = {}

    def get(self, loop: asyncio.AbstractEventLoop | None = None) -> T:
        loop = loop or asyncio.get_running_loop()
        made = self._made.get(loop)
        if made is None:
            for closed in [other for other in self._made if other.is_closed()]:
                del self._made[closed]
            made = self._made[loop] = self._make(loop)
        return made
