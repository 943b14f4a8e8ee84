import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.core.clock import ManualClock
from emulator.core.jobs import Failure, InvalidTransition, Job, JobEngine, Plan, State
from tests.support import present, settle


def events(job: Job) -> list[tuple[str, float, str, int | None]]:
    return [(e.kind, e.at, e.state.value, e.index) for e in job.timeline]


async def test_timed_job_follows_its_plan_exactly(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    t0 = clock.now()
    job = engine.create("j1", "test", Plan(queue_seconds=1.0, output_offsets=(2.0, 3.0)))
    assert job.state is State.QUEUED
    clock.advance(10)
    assert present(engine.get("j1")).state is State.SUCCEEDED
    assert events(job) == [
        ("state", t0, "queued", None),
        ("state", t0 + 1, "running", None),
        ("output", t0 + 3, "running", 0),
        ("output", t0 + 4, "running", 1),
        ("state", t0 + 4, "succeeded", None),
    ]
    assert (job.started_at, job.finished_at) == (t0 + 1, t0 + 4)


async def test_reading_advances_a_job_to_now(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    engine.create("j1", "test", Plan(queue_seconds=1.0, output_offsets=(2.0, 3.0)))
    clock.advance(3.5)
    job = present(engine.get("j1"))
    assert (job.state, job.outputs_ready) == (State.RUNNING, 1)


async def test_driver_emits_events_without_any_reader(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    seen: list[str] = []
    engine.create("j1", "test", Plan(0.5, (1.0,)), listener=lambda job, event: seen.append(event.kind))
    await settle()
    clock.advance(0.5)
    await settle()
    assert seen == ["state"]
    clock.advance(1.0)
    await settle()
    assert seen == ["state", "output", "state"]


async def test_instant_plan_is_done_on_creation(clock: ManualClock) -> None:
    job = JobEngine(clock).create("j1", "test", Plan(0.0, (0.0, 0.0, 0.0)))
    assert (job.state, job.outputs_ready) == (State.SUCCEEDED, 3)


async def test_planned_failure_fails_after_the_work_would_have_taken(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    t0 = clock.now()
    job = engine.create("j1", "test", Plan(1.0, (2.0,), failure=Failure("contentPolicy", "blocked")))
    clock.advance(2.9)
    assert present(engine.get("j1")).state is State.RUNNING
    clock.advance(0.1)
    engine.get("j1")
    assert job.state is State.FAILED
    assert job.failure == Failure("contentPolicy", "blocked")
    assert job.outputs_ready == 0
    assert job.finished_at == t0 + 3


async def test_a_failure_after_images_makes_them_first(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    plan = Plan(1.0, (1.0, 2.0, 3.0), failure=Failure("contentPolicy", ""), failed_after=2)
    job = engine.create("j1", "test", plan)
    clock.advance(3.0)
    assert (present(engine.get("j1")).state, job.outputs_ready) == (State.RUNNING, 2)
    clock.advance(1.0)
    engine.get("j1")
    assert (job.state, job.outputs_ready) == (State.FAILED, 2)


@pytest.mark.parametrize("stage", [State.QUEUED, State.RUNNING])
async def test_stalled_job_stays_until_canceled(clock: ManualClock, stage: State) -> None:
    engine = JobEngine(clock)
    engine.create("j1", "test", Plan(1.0, (1.0,), stall_in=stage))
    clock.advance(10_000)
    assert present(engine.get("j1")).state is stage
    job = engine.cancel("j1")
    assert job is not None and job.state is State.CANCELED
    assert job.timeline[-1].state is State.CANCELED


async def test_cancel_does_not_touch_a_finished_job(clock: ManualClock) -> None:
    job = JobEngine(clock).create("j1", "test", Plan(0.0, (0.0,)))
    assert job.cancel(clock.now()) is False
    assert job.state is State.SUCCEEDED


async def test_advance_steps_the_lifecycle_by_hand(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    engine.create("j1", "test", Plan(100.0, (100.0, 200.0)))
    states = []
    for _ in range(4):
        job = present(engine.advance("j1"))
        states.append((job.state.value, job.outputs_ready))
    assert states == [("running", 0), ("running", 1), ("running", 2), ("succeeded", 2)]
    assert present(engine.get("j1")).advance(clock.now()) is False


async def test_illegal_transition_is_refused(clock: ManualClock) -> None:
    job = JobEngine(clock).create("j1", "test", Plan(0.0, (0.0,)))
    with pytest.raises(InvalidTransition):
        job._enter(State.RUNNING, clock.now())


async def test_wait_returns_when_the_predicate_holds(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    job = engine.create("j1", "test", Plan(1.0, (1.0,)))
    waiter = asyncio.create_task(engine.wait(job, lambda j: j.state.terminal))
    await settle()
    assert not waiter.done()
    clock.advance(2)
    assert await asyncio.wait_for(waiter, 1) is True


async def test_wait_gives_up_at_its_timeout(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    job = engine.create("j1", "test", Plan(1.0, (1.0,), stall_in=State.RUNNING))
    waiter = asyncio.create_task(engine.wait(job, lambda j: j.state.terminal, timeout=5))
    await settle()
    clock.advance(5)
    assert await asyncio.wait_for(waiter, 1) is False


async def test_store_evicts_oldest_finished_jobs_beyond_its_bound(clock: ManualClock) -> None:
    engine = JobEngine(clock, max_jobs=3)
    engine.create("running", "test", Plan(0.0, (0.0,), stall_in=State.RUNNING))
    for index in range(5):
        engine.create(f"done{index}", "test", Plan(0.0, (0.0,)))
    assert len(engine) == 3
    assert "running" in engine
    assert [job.id for job in engine] == ["running", "done3", "done4"]


async def test_reset_cancels_unfinished_jobs_so_waiters_wake(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    job = engine.create("j1", "test", Plan(1.0, (1.0,)))
    waiter = asyncio.create_task(engine.wait(job, lambda j: j.state.terminal))
    await settle()
    engine.reset()
    assert await asyncio.wait_for(waiter, 1) is True
    assert job.state is State.CANCELED and len(engine) == 0


async def test_unfinished_jobs_are_bounded(clock: ManualClock) -> None:
    from emulator.core.jobs import Overloaded

    engine = JobEngine(clock, max_active=2)
    engine.create("a", "test", Plan(1.0, (1.0,)))
    engine.create("b", "test", Plan(1.0, (1.0,)))
    with pytest.raises(Overloaded):
        engine.create("c", "test", Plan(1.0, (1.0,)))
    clock.advance(5)
    engine.get("a")
    engine.create("c", "test", Plan(1.0, (1.0,)))


def test_a_failure_reads_as_its_message_or_the_tables_text_for_its_kind() -> None:
    table = {"provider_error": "It failed.", "content_policy": "Blocked.", "default": "Failed ({kind})."}
    assert Failure.text(None, table) == "It failed."
    assert Failure.text(Failure("content_policy", ""), table) == "Blocked."
    assert Failure.text(Failure("gpu_melted", ""), table) == "Failed (gpu_melted)."
    assert Failure.text(Failure("content_policy", "custom words"), table) == "custom words"


async def test_a_finished_job_lets_go_of_its_listeners_and_waiters(clock: ManualClock) -> None:
    engine = JobEngine(clock)
    seen: list[str] = []
    job = engine.create("j1", "test", Plan(1.0, (1.0,)), listener=lambda job, event: seen.append(event.kind))
    waiting = asyncio.ensure_future(engine.wait(job, lambda current: current.state.terminal))
    await settle()
    clock.advance(5)
    assert await asyncio.wait_for(waiting, 1)
    assert seen == ["state", "output", "state"]
    assert job._listeners == () and not job._waiters


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=4),
    failed_after=st.one_of(st.none(), st.integers(min_value=0, max_value=6)),
)
def test_a_plan_that_ends_at_once_gives_what_stepping_through_it_gives(count: int, failed_after: int | None) -> None:
    """An instant plan (no queue, every image at once) is run through without planning steps; the events, listener
    calls and end state are those of the same plan stepped through by the clock."""
    failure = Failure("boom", "") if failed_after is not None else None
    now = Plan(0.0, (0.0,) * count, failure=failure, failed_after=failed_after or 0)
    later = Plan(1.0, (0.0,) * count, failure=failure, failed_after=failed_after or 0)

    async def run(plan: Plan) -> tuple[list[tuple[str, str, int | None]], list[tuple[str, str, int | None]], Job]:
        clock = ManualClock()
        engine = JobEngine(clock)
        heard: list[tuple[str, str, int | None]] = []
        job = engine.create("j", "test", plan, listener=lambda _, e: heard.append((e.kind, e.state.value, e.index)))
        clock.advance(2.0)
        engine.get("j")
        return [(kind, state, index) for kind, _, state, index in job._events], heard, job

    (instant, instant_heard, a), (stepped, stepped_heard, b) = asyncio.run(run(now)), asyncio.run(run(later))
    assert instant == stepped and instant_heard == stepped_heard
    assert (a.state, a.outputs_ready, a.failure) == (b.state, b.outputs_ready, b.failure)
    assert a.next_step_at is None
