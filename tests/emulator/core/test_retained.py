"""A bounded store forgets the oldest finished records first and never one still in use."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from emulator.core.retained import Retained


def test_it_keeps_at_most_its_limit_of_finished_records() -> None:
    store: Retained[int, bool] = Retained(3)
    for key in range(10):
        store.put(key, True)
    assert list(store) == [7, 8, 9]


def test_records_still_in_use_outlive_finished_ones() -> None:
    store: Retained[int, bool] = Retained(2, done=lambda finished: finished)
    store.put(0, False)
    for key in range(1, 6):
        store.put(key, True)
    assert 0 in store and len(store) == 2 and store.get(5) is True


@given(st.lists(st.booleans(), max_size=60), st.integers(1, 10))
def test_nothing_unfinished_is_ever_forgotten(finished: list[bool], limit: int) -> None:
    store: Retained[int, bool] = Retained(limit, done=lambda done: done)
    for key, done in enumerate(finished):
        store.put(key, done)
    assert {key for key, done in enumerate(finished) if not done} <= set(store)
    assert len(store) <= max(limit, sum(not done for done in finished))
