"""Every fault kind and limit on every surface, through each surface's own wire format."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest

from emulator import read_metadata
from emulator.core.clock import ManualClock
from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.faults.drivers import DRIVERS, Driver
from tests.support import drive, present, settle

FAILURES = {
    "runware": "contentPolicyViolation",
    "evolink": "content_policy_violation",
    "wiro": "blocked by the safety checker",
    "replicate": "flagged as sensitive",
}


@pytest.fixture(params=sorted(DRIVERS))
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory, clock: ManualClock) -> Emulator:
    return await make_emulator(clock=clock)


@pytest.fixture
def driver(emulator: Emulator, name: str) -> Driver:
    return DRIVERS[name](emulator.client)


def control(emulator: Emulator) -> Any:
    return emulator.app.state.emulator


async def finish(driver: Driver, job: str | None, clock: ManualClock) -> Any:
    """Poll, moving the clock on, until the job ends (Wiro's post-processing also needs real render time)."""
    assert job is not None, "the create was refused"
    reply = await driver.poll(job)
    for _ in range(300):
        if driver.state(reply) in ("succeeded", "failed"):
            return reply
        clock.advance(10)
        await asyncio.sleep(0.02)
        reply = await driver.poll(job)
    raise AssertionError(f"job {job} never finished: {reply.body}")


async def test_error_rule_answers_the_surface_error_with_retry_after(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="error", surface=name, route="POST *", status=429, retry_after=3, times=2)
    for _ in range(2):
        reply, _ = await driver.submit()
        assert reply.status == 429
        assert driver.is_error(reply), reply.body
        assert reply.headers["retry-after"] == "3"
    reply, job = await driver.submit()
    assert reply.status < 300 and not driver.is_error(reply)
    assert driver.state(await finish(driver, job, clock)) == "succeeded"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_keep_the_surface_shape(emulator: Emulator, driver: Driver, name: str, status: int) -> None:
    control(emulator).add_fault(action="error", surface=name, status=status, times=1)
    reply, _ = await driver.submit()
    assert reply.status == status
    assert driver.is_error(reply), reply.body


async def test_latency_holds_the_request_on_the_emulator_clock(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="latency", surface=name, seconds=5, times=1)
    pending = asyncio.create_task(driver.submit())
    await settle(30)
    assert not pending.done()
    clock.advance(5)
    reply, _ = await asyncio.wait_for(pending, 5)
    assert reply.status < 300


async def test_reset_disconnects_without_an_answer(emulator: Emulator, driver: Driver, name: str) -> None:
    control(emulator).add_fault(action="disconnect", surface=name, disconnect="reset", times=1)
    with pytest.raises(ConnectionResetError):
        await driver.submit()
    reply, _ = await driver.submit()
    assert reply.status in (200, 201)


async def test_failed_job_has_the_surface_failure_shape(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="fail", surface=name, failure="content_policy")
    _, job = await driver.submit()
    reply = await finish(driver, job, clock)
    assert driver.state(reply) == "failed"
    assert FAILURES[name] in driver.failure(reply)


async def test_stalled_job_waits_for_a_manual_advance(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="stall", surface=name, state="running")
    _, job = await driver.submit()
    clock.advance(3600)
    assert driver.state(await driver.poll(present(job))) == "running"
    [engine_job] = control(emulator).jobs(surface=name)
    assert engine_job["stalled"] is True
    for _ in range(5):
        control(emulator).advance(engine_job["id"])
    assert driver.state(await finish(driver, job, clock)) == "succeeded"


async def test_fewer_images_than_asked(emulator: Emulator, driver: Driver, name: str, clock: ManualClock) -> None:
    _, unfaulted = await driver.submit(images=3)
    assert driver.images(await finish(driver, unfaulted, clock)) == 3
    control(emulator).add_fault(action="fewer_images", surface=name, images=1)
    _, job = await driver.submit(images=3)
    reply = await finish(driver, job, clock)
    assert driver.state(reply) == "succeeded"
    assert driver.images(reply) == 1


async def test_prompt_directives_fault_one_request_and_vanish(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    _, failing = await driver.submit("[[emulator:fail=content_policy]] a cat")
    assert driver.state(await finish(driver, failing, clock)) == "failed"
    _, fine = await driver.submit("a [[emulator:latency=0s]]cat")
    assert driver.state(await finish(driver, fine, clock)) == "succeeded"
    image = next(
        a
        for a in emulator.runtime.artifacts._artifacts.values()
        if a.spec and a.spec.job_id in (fine, _job_uuid(emulator, present(fine)))
    )
    record = read_metadata(await emulator.runtime.artifacts.content(image))
    assert record["prompt_sha256"] == hashlib.sha256(b"a cat").hexdigest()
    assert "emulator" not in present(image.spec).prompt_excerpt


def _job_uuid(emulator: Emulator, job: str) -> str:
    """Wiro jobs run under an internal UUID; others under the id the client sees."""
    service = (
        control(emulator).surface("wiro").service if any(s.name == "wiro" for s in control(emulator).surfaces) else None
    )
    task = service.tasks.get(job) if service is not None else None
    return task.uuid if task is not None else job


async def test_rules_do_not_leak_into_other_requests(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="fail", surface=name, prompt="boom")
    _, marked = await driver.submit("boom goes the lighthouse")
    _, plain = await driver.submit("a quiet lighthouse")
    assert driver.state(await finish(driver, marked, clock)) == "failed"
    assert driver.state(await finish(driver, plain, clock)) == "succeeded"
    other = "evolink" if name != "evolink" else "runware"
    control(emulator).add_fault(action="error", surface=other, status=500)
    reply, _ = await driver.submit("unaffected")
    assert reply.status < 300


async def test_first_n_counts_exactly_under_concurrent_requests(emulator: Emulator, driver: Driver, name: str) -> None:
    control(emulator).add_fault(action="error", surface=name, route="POST *", status=503, times=3)
    replies = await asyncio.gather(*(driver.submit(f"prompt {i}") for i in range(10)))
    assert sorted(reply.status == 503 for reply, _ in replies) == [False] * 7 + [True] * 3


async def test_requests_per_minute_limit_answers_429_then_recovers(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).set_limit(name, requests_per_minute=2)
    assert (await driver.submit())[0].status < 300
    assert (await driver.submit())[0].status < 300
    reply, _ = await driver.submit()
    assert reply.status == 429 and driver.is_error(reply)
    assert int(reply.headers["retry-after"]) >= 1
    clock.advance(61)
    assert (await driver.submit())[0].status < 300


async def test_concurrency_limit_counts_unfinished_jobs_per_key(
    make_emulator: EmulatorFactory, name: str, clock: ManualClock
) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic")
    driver = DRIVERS[name](emulator.client)
    control(emulator).set_limit(name, concurrency=1)
    first, job = await driver.submit()
    assert first.status < 300
    second, _ = await driver.submit()
    assert driver.is_error(second)
    if name == "wiro":
        assert second.status == 200 and second.body["errors"][0]["code"] == 96
    else:
        assert second.status == 429
    await finish(driver, job, clock)
    assert not driver.is_error((await driver.submit())[0])


async def test_probability_rules_replay_with_the_same_seed(make_emulator: EmulatorFactory, name: str) -> None:
    async def timeline(seed: int) -> list[int]:
        emulator = await make_emulator(seed=seed)
        driver = DRIVERS[name](emulator.client)
        control(emulator).add_fault(action="error", surface=name, route="POST *", status=500, probability=0.5)
        return [(await driver.submit(f"p{i}"))[0].status == 500 for i in range(24)]

    first, again, other = await timeline(7), await timeline(7), await timeline(8)
    assert first == again
    assert True in first and False in first
    assert first != other


async def deliveries_done(emulator: Emulator, clock: ManualClock, count: int) -> list[Any]:
    deliveries = emulator.runtime.webhooks.deliveries
    await drive(
        clock,
        lambda: len(deliveries()) >= count and all(d.state != "pending" for d in deliveries()),
        step=0.5,
        limit=600,
    )
    return deliveries()


async def test_dropped_webhook_is_logged_and_never_sent(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="webhook", surface=name, webhook="drop")
    _, job = await driver.submit(callback="https://hooks.example/h")
    await finish(driver, job, clock)
    [delivery] = await deliveries_done(emulator, clock, 1)
    assert delivery.state == "dropped" and delivery.attempts == []
    assert emulator.receiver.requests == []


async def test_duplicated_webhook_arrives_twice_with_the_same_body(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="webhook", surface=name, webhook="duplicate", times=1)
    _, job = await driver.submit(callback="https://hooks.example/h")
    await finish(driver, job, clock)
    await deliveries_done(emulator, clock, 2)
    first, second = emulator.receiver.requests[:2]
    assert first.content == second.content
    assert dict(first.headers) == dict(second.headers)


async def test_delayed_webhook_arrives_later_on_the_clock(
    emulator: Emulator, driver: Driver, name: str, clock: ManualClock
) -> None:
    control(emulator).add_fault(action="webhook", surface=name, webhook="delay", seconds=30)
    _, job = await driver.submit(callback="https://hooks.example/h")
    await finish(driver, job, clock)
    [delivery] = await deliveries_done(emulator, clock, 1)
    finished_at = control(emulator).job(_job_uuid(emulator, present(job)))["finished_at"]
    assert delivery.attempts[0].at - finished_at >= 30


async def test_reordered_webhooks_arrive_out_of_order(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic")
    driver = DRIVERS["runware"](emulator.client)
    control(emulator).add_fault(action="webhook", surface="runware", webhook="reorder", times=1)
    _, job = await driver.submit(images=2, callback="https://hooks.example/h")
    await finish(driver, job, clock)
    await deliveries_done(emulator, clock, 2)
    seeds = [json.loads(request.content)["seed"] for request in emulator.receiver.requests]
    assert seeds == sorted(seeds, reverse=True)
