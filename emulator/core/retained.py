"""A bounded, insertion-ordered store of records that keeps what is still in use.

Every surface remembers its tasks so clients can poll them; memory must stay flat, yet evicting a task a client
is still waiting for would lose accepted work. Past `limit`, the oldest records that are `done` go first.

With a state directory (`Runtime.retained`), a store is durable: what is put, read (and so perhaps changed) or
forgotten is written through `StateDir` before the reply that follows it.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from .state import StateDir

K = TypeVar("K")
V = TypeVar("V")


class Retained(Generic[K, V]):
    def __init__(
        self, limit: int, done: Callable[[V], bool] = lambda _: True, *, name: str = "", state: StateDir | None = None
    ) -> None:
        self.limit = limit
        self.done = done
        self.name = name
        self._items: OrderedDict[K, V] = OrderedDict()
        self._state = state
        if state is not None:
            state.store(name, self)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None and self._state is not None:
            self._state.touch_record(self.name, str(key), value)
        return value

    def values(self) -> Iterator[V]:
        return iter(self._items.values())

    def put(self, key: K, value: V) -> None:
        """Keep `value`; beyond the limit, forget the oldest finished records. The scan stops at the first
        `excess` finished ones, so it only walks past records still in use (at most the active-job cap)."""
        self._items[key] = value
        if self._state is not None:
            self._state.home(self.name, str(key), value)
            self._state.touch_record(self.name, str(key), value)
        excess = len(self._items) - self.limit
        if excess <= 0:
            return
        finished = (old for old, kept in self._items.items() if self.done(kept))
        for old in list(itertools.islice(finished, excess)):
            self._forget(old, self._items.pop(old))

    def pop(self, key: K) -> V | None:
        value = self._items.pop(key, None)
        if value is not None:
            self._forget(key, value)
        return value

    def clear(self) -> None:
        for key, value in list(self._items.items()):
            self._forget(key, value)
        self._items.clear()

    def restore(self, key: str, value: V) -> None:
        """Put back a record read from the state directory, as it was kept (no eviction, nothing written)."""
        self._items[key] = value  # type: ignore[index]

    def _forget(self, key: K, value: V) -> None:
        if self._state is not None:
            self._state.leave(self.name, str(key), value)
