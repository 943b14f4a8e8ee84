import asyncio

import pytest

from emulator.core.clock import ManualClock, SystemClock
from tests.support import settle


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock(start=100.0)
    woke: list[str] = []

    async def sleeper(name: str, deadline: float) -> None:
        await clock.sleep_until(deadline)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("late", 105.0)), asyncio.create_task(sleeper("early", 102.0))]
    await settle()
    clock.advance(2.5)
    await settle()
    assert woke == ["early"]
    clock.advance(10)
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]
    assert clock.now() == 112.5


async def test_manual_clock_past_deadline_returns_at_once() -> None:
    clock = ManualClock(start=10.0)
    await asyncio.wait_for(clock.sleep_until(5.0), timeout=1)


def test_manual_clock_never_goes_backwards() -> None:
    clock = ManualClock(start=10.0)
    with pytest.raises(ValueError):
        clock.set(9.0)


async def test_system_clock_sleeps_until_deadline() -> None:
    clock = SystemClock()
    deadline = clock.now() + 0.05
    await clock.sleep_until(deadline)
    assert clock.now() >= deadline
