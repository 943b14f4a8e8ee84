"""The poll schedule: first poll after the interval, x1.5 up to the cap, last wait cut at the deadline."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients import PollTimeout
from clients._polling import Deadline, PollSchedule, apoll, poll
from tests.clients.support import SURFACES, Live, Recording, Surface


def far() -> Deadline:
    return Deadline.after(3600, "test")


def test_intervals_grow_by_half_up_to_the_cap() -> None:
    schedule = PollSchedule(1.0, 4.0, far())
    assert [round(schedule.next_delay(), 4) for _ in range(6)] == [1.0, 1.5, 2.25, 3.375, 4.0, 4.0]


@given(st.floats(min_value=0.01, max_value=10), st.floats(min_value=1, max_value=10))
def test_no_wait_is_shorter_than_the_interval_or_longer_than_the_cap(interval: float, factor: float) -> None:
    schedule = PollSchedule(interval, interval * factor, far())
    delays = [schedule.next_delay() for _ in range(20)]
    assert delays[0] == interval
    assert all(interval <= delay <= interval * factor + 1e-9 for delay in delays)
    assert delays == sorted(delays)


def test_the_last_wait_ends_at_the_deadline_and_then_it_is_a_poll_timeout() -> None:
    deadline = Deadline(time.monotonic() + 0.3, 0.3, "test", "job-9")
    schedule = PollSchedule(10.0, 10.0, deadline)
    assert 0.25 < schedule.next_delay() <= 0.3
    time.sleep(0.31)
    with pytest.raises(PollTimeout) as caught:
        schedule.next_delay()
    assert caught.value.job_id == "job-9" and "0.3 s" in caught.value.message


def test_poll_stops_at_the_first_result() -> None:
    answers = iter([None, None, ["done"], ["never asked"]])
    calls: list[float] = []

    def check() -> list[str] | None:
        calls.append(time.monotonic())
        return next(answers)

    start = time.monotonic()
    assert poll(check, PollSchedule(0.02, 0.05, far())) == ["done"]
    assert len(calls) == 3 and calls[0] - start >= 0.02


async def test_apoll_times_out_on_a_job_that_never_finishes() -> None:
    calls = 0

    async def check() -> None:
        nonlocal calls
        calls += 1

    start = time.monotonic()
    with pytest.raises(PollTimeout):
        await apoll(check, PollSchedule(0.02, 0.05, Deadline.after(0.2, "test")))
    assert 0.2 <= time.monotonic() - start < 0.5 and calls >= 4


# Against the emulator: every client, jobs moved on by hand.

by_surface = pytest.mark.parametrize("surface", SURFACES, ids=[surface.name for surface in SURFACES])


@by_surface
def test_a_stalled_job_is_a_poll_timeout_within_the_bound(live: Live, surface: Surface) -> None:
    with surface.client(live, timeout=0.5) as client:
        start = time.monotonic()
        with pytest.raises(PollTimeout) as caught:
            client.generate(surface.request("a fog bank [[emulator:stall=running]]"))
        elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 1.5
    assert caught.value.provider == surface.name and caught.value.job_id


async def test_the_async_client_times_out_the_same_way(live: Live) -> None:
    surface = SURFACES[1]
    async with surface.async_client(live, timeout=0.4) as client:
        job_id = await client.start(surface.request("a fog bank [[emulator:stall=queued]]"))
        start = time.monotonic()
        with pytest.raises(PollTimeout) as caught:
            await client.wait(job_id)
    assert 0.4 <= time.monotonic() - start < 1.4 and caught.value.job_id == job_id


@by_surface
def test_polls_back_off_and_stop_the_moment_the_job_is_terminal(live: Live, surface: Surface) -> None:
    recording = Recording()
    client = surface.client(live, transport=recording, poll_interval=0.03, max_poll_interval=0.08)
    job_id = client.start(surface.request("slow tide [[emulator:stall=running]]", images=2))
    [job] = live.jobs(surface.name)
    result: dict[str, Any] = {}
    waiter = threading.Thread(target=lambda: result.update(images=client.wait(job_id)))
    waiter.start()
    while waiter.is_alive():
        time.sleep(0.15)
        live.advance(job["id"])
    client.close()
    assert len(result["images"]) == 2
    polls = surface.polls(recording.exchanges)
    assert len(polls) >= 4
    assert [surface.terminal(poll) for poll in polls] == [False] * (len(polls) - 1) + [True]
    gaps = [later.sent - earlier.answered for earlier, later in itertools.pairwise(polls)]
    assert all(0.03 <= gap < 0.2 for gap in gaps)
    assert max(gaps[-3:]) >= 0.07  # grown to the cap
