"""Many deadlines under one timer: each key expires on time unless cleared or moved later."""

from __future__ import annotations

import asyncio

from emulator.core.deadlines import Deadlines, PerLoop


async def test_each_deadline_expires_on_time_unless_cleared_or_moved() -> None:
    loop = asyncio.get_running_loop()
    expired: list[tuple[str, float]] = []
    started = loop.time()
    deadlines: Deadlines[str] = Deadlines(loop, lambda key: expired.append((key, loop.time() - started)))
    deadlines.set("late", 0.3)
    deadlines.set("early", 0.05)  # earlier than the timer already armed: it is armed again
    deadlines.set("cleared", 0.05)
    deadlines.set("moved", 0.05)
    deadlines.clear("cleared")
    await asyncio.sleep(0.02)
    deadlines.set("moved", 0.2)
    await asyncio.sleep(0.45)
    assert [key for key, _ in expired] == ["early", "moved", "late"]
    for key, at in expired:
        assert at >= {"early": 0.05, "moved": 0.22, "late": 0.3}[key]
    assert "late" not in deadlines


async def test_a_key_set_again_after_it_expired_expires_again() -> None:
    loop = asyncio.get_running_loop()
    expired: list[int] = []
    deadlines: Deadlines[int] = Deadlines(loop, expired.append)
    deadlines.set(1, 0.01)
    await asyncio.sleep(0.05)
    deadlines.set(1, 0.01)
    await asyncio.sleep(0.05)
    assert expired == [1, 1]


async def test_per_loop_makes_one_per_running_loop() -> None:
    made: PerLoop[object] = PerLoop(lambda loop: object())
    assert made.get() is made.get()
