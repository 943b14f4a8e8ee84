"""A bounded, insertion-ordered store of records that keeps what is still in use.

Every surface remembers its tasks so clients can poll them; memory must stay flat, yet evicting a task a client
is still waiting for would lose accepted work. Past `limit`, the oldest records that are `done` go first.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Retained(Generic[K, V]):
    def __init__(self, limit: int, done: Callable[[V], bool] = lambda _: True) -> None:
        self.limit = limit
        self.done = done
        self._items: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def values(self) -> Iterator[V]:
        return iter(self._items.values())

    def put(self, key: K, value: V) -> None:
        """Keep `value`; beyond the limit, forget the oldest finished records. The scan stops at the first
        `excess` finished ones, so it only walks past records still in use (at most the active-job cap)."""
        self._items[key] = value
        excess = len(self._items) - self.limit
        if excess <= 0:
            return
        finished = (old for old, kept in self._items.items() if self.done(kept))
        for old in list(itertools.islice(finished, excess)):
            del self._items[old]

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()
