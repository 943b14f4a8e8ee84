import pytest

from emulator.core.clock import ManualClock
from emulator.core.jobs import JobEngine, Plan
from emulator.core.limits import Limit, Limited, Limiter


def test_requests_per_minute_is_a_sliding_window_per_key(clock: ManualClock) -> None:
    limiter = Limiter(clock, {"runware": Limit(requests_per_minute=2)})
    limiter.admit("runware", "a")
    clock.advance(10)
    limiter.admit("runware", "a")
    limiter.admit("runware", "b")
    with pytest.raises(Limited) as limited:
        limiter.admit("runware", "a")
    assert limited.value.retry_after == pytest.approx(50)
    clock.advance(50)
    limiter.admit("runware", "a")
    limiter.admit("wiro", "a")


async def test_concurrency_counts_unfinished_jobs(clock: ManualClock) -> None:
    limiter = Limiter(clock, {"evolink": Limit(concurrency=1)})
    engine = JobEngine(clock)
    job = engine.create("j1", "evolink", Plan(1.0, (1.0,)))
    limiter.reserve("evolink", "k")
    limiter.track("evolink", "k", job)
    with pytest.raises(Limited) as limited:
        limiter.reserve("evolink", "k")
    assert limited.value.concurrency == 1
    limiter.reserve("evolink", "other-key")
    clock.advance(5)
    engine.get("j1")
    limiter.reserve("evolink", "k")


def test_surfaces_without_limits_are_never_limited(clock: ManualClock) -> None:
    limiter = Limiter(clock)
    for _ in range(1000):
        limiter.admit("runware", "a")
        limiter.reserve("runware", "a")


@pytest.mark.parametrize("fields", [{"requests_per_minute": 0}, {"concurrency": -1}])
def test_limits_must_be_positive(fields: dict) -> None:
    with pytest.raises(ValueError):
        Limit(**fields)
