from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from emulator.core.jobs import Job, Plan, State
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy
from emulator.settings import SettingsError


@dataclass
class Task:
    id: str
    job: Job | None = None
    notes: list[str] = field(default_factory=list)


class Service:
    """A surface's service in miniature: two stores of the same tasks, a listener on each job."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tasks: Retained[str, Task] = runtime.retained("test.tasks", 2, lambda task: task.job is None)
        self.by_token: Retained[str, Task] = runtime.retained("test.by_token", 2, lambda task: task.job is None)
        self.events: list[str] = []

    def create(self, task_id: str) -> Task:
        task = Task(task_id)
        self.by_token.put("token-" + task_id, task)
        self.tasks.put(task_id, task)
        task.job = self.runtime.jobs.create(task_id, "test", Plan(10, (20,)), data=task, listener=self.on_event)
        return task

    def on_event(self, job: Job, _: Any) -> None:
        self.events.append(job.state.value)
        job.data.notes.append(job.state.value)


def open_runtime(directory: Path, clock: ManualClock) -> tuple[Runtime, Service]:
    runtime = Runtime.create(seed=3, clock=clock, state=directory)
    service = Service(runtime)
    runtime.restore({"surface.test": service})
    return runtime, service


async def test_a_record_kept_in_two_stores_comes_back_as_one_object_with_its_job(tmp_path: Path) -> None:
    clock = ManualClock()
    runtime, service = open_runtime(tmp_path, clock)
    service.create("a")
    assert runtime.state is not None
    runtime.state.flush()

    again, restored = open_runtime(tmp_path, clock)
    task = restored.tasks.get("a")
    assert task is not None
    assert restored.by_token.get("token-a") is task
    assert task.job is again.jobs.get("a")
    assert task.job is not None and task.job.data is task
    clock.advance(30)
    again.jobs.get("a")
    assert task.job.state is State.SUCCEEDED
    assert restored.events == ["running", "running", "succeeded"]  # the listener was bound again to the new service
    assert task.notes == ["running", "running", "succeeded"]
    assert again.state is not None and again.state.unwritten == []


async def test_what_a_store_forgets_is_not_restored(tmp_path: Path) -> None:
    clock = ManualClock()
    runtime, service = open_runtime(tmp_path, clock)
    service.tasks.put("gone", Task("gone"))
    service.tasks.pop("gone")
    service.tasks.put("kept", Task("kept"))
    assert runtime.state is not None
    runtime.state.flush()
    _, restored = open_runtime(tmp_path, clock)
    assert list(restored.tasks) == ["kept"]


async def test_a_reset_empties_the_directory(tmp_path: Path) -> None:
    clock = ManualClock()
    runtime, service = open_runtime(tmp_path, clock)
    service.create("a")
    runtime.reset()
    again, restored = open_runtime(tmp_path, clock)
    assert len(again.jobs) == 0 and len(restored.tasks) == 0


async def test_a_job_evicted_from_retention_is_deleted(tmp_path: Path) -> None:
    clock = ManualClock()
    runtime = Runtime.create(seed=3, clock=clock, state=tmp_path, max_jobs=1)
    runtime.restore({})
    for name in ("a", "b"):
        runtime.jobs.create(name, "test", Plan(0, ()))
        clock.advance(1)
        runtime.jobs.get(name)
    assert runtime.state is not None
    runtime.state.flush()
    again = Runtime.create(seed=3, clock=clock, state=tmp_path)
    again.restore({})
    assert [job.id for job in again.jobs] == ["b"]


async def test_ids_after_a_restart_differ_from_the_first_run(tmp_path: Path) -> None:
    first = Runtime.create(seed=3, state=tmp_path)
    drawn = first.ids.uuid4()
    assert Runtime.create(seed=3, state=tmp_path).ids.uuid4() != drawn
    assert Runtime.create(seed=3).ids.uuid4() == drawn  # without a directory, a seed repeats as ever


async def test_a_delivery_pending_at_a_crash_is_sent_after_the_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    received: list[bytes] = []

    def down(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("the receiver is down")

    def up(request: httpx.Request) -> httpx.Response:
        received.append(request.read())
        return httpx.Response(200)

    runtime = Runtime.create(seed=3, clock=clock, state=tmp_path, webhook_transport=httpx.MockTransport(down))
    runtime.restore({})
    policy = RetryPolicy(max_attempts=3, initial_delay=60, multiplier=1, timeout=1)
    runtime.webhooks.send(surface="test", url="http://hooks.test/x", body=b'{"done":true}', policy=policy, event="e")
    await asyncio.sleep(0.05)  # the first attempt fails; the next one waits a minute that never comes

    again = Runtime.create(seed=3, clock=clock, state=tmp_path, webhook_transport=httpx.MockTransport(up))
    again.restore({})
    again.resume()
    await again.webhooks.drain()
    assert received == [b'{"done":true}']
    [delivery] = again.webhooks.deliveries()
    assert delivery.state == "delivered"
    await again.aclose()
    third = Runtime.create(seed=3, clock=clock, state=tmp_path)
    third.restore({})
    assert third.webhooks.deliveries() == []  # delivered: no longer kept


async def test_the_health_endpoint_says_where_state_is_kept(tmp_path: Path) -> None:
    app = create_app(Settings(state=str(tmp_path), seed=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        health = (await client.get("/_emulator/health")).json()
    assert health["state"] == {"directory": str(tmp_path), "starts": 1, "unwritten": []}


def test_a_directory_that_cannot_be_made_is_a_settings_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SettingsError, match="state"):
        Settings.load(state=str(blocker / "state"))


async def test_a_record_pickle_refuses_is_reported_and_the_rest_is_kept(tmp_path: Path) -> None:
    clock = ManualClock()
    runtime, service = open_runtime(tmp_path, clock)
    refused = Task("refused")
    refused.notes.append(memoryview(b"not picklable"))  # type: ignore[arg-type]
    service.tasks.put("refused", refused)
    service.tasks.put("kept", Task("kept"))
    assert runtime.state is not None
    runtime.state.flush()
    assert len(runtime.state.unwritten) == 1 and "refused" in runtime.state.unwritten[0]
    _, restored = open_runtime(tmp_path, clock)
    assert list(restored.tasks) == ["kept"]
