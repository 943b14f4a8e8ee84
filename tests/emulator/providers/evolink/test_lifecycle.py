"""pending -> processing -> completed | failed (| cancelled): progress, estimates, errors, expiry, task ids."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from emulator.core.jobs import Failure
from tests.support import SyncClient, contract_errors, present

from .conftest import EvoLink, EvoLinkFactory, auth, body, error_of

ORDER = {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}


@pytest.fixture(scope="module")
def manual() -> Iterator[tuple[SyncClient, ManualClock]]:
    clock = ManualClock()
    client = SyncClient(create_app(Settings(timing="realistic", seed=3), clock=clock))
    yield client, clock
    client.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.floats(0, 2.5, allow_nan=False), min_size=1, max_size=25),
    n=st.integers(1, 4),
    size=st.sampled_from(["1:1", "16:9", "21:9"]),
    quality=st.sampled_from(["1K", "2K", "4K"]),
)
def test_progress_never_decreases_and_status_only_moves_forward(
    manual: tuple[SyncClient, ManualClock], steps: list[float], n: int, size: str, quality: str
) -> None:
    client, clock = manual
    prompt = f"generate {n} images"
    task = client.post(
        "/evolink/v1/images/generations", json=body(n=n, size=size, quality=quality, prompt=prompt), headers=auth()
    ).json()
    seen = [(task["status"], task["progress"])]
    for step in [*steps, 60.0]:
        clock.advance(step)
        reply = client.get(f"/evolink/v1/tasks/{task['id']}", headers=auth()).json()
        assert contract_errors("evolink", "task", reply) == []
        seen.append((reply["status"], reply["progress"]))
        if reply["status"] == "pending":
            assert reply["progress"] == 0 and reply["task_info"]["can_cancel"] is True
        elif reply["status"] == "processing":
            assert 10 <= reply["progress"] <= 99 and reply["task_info"]["can_cancel"] is False
    progress = [value for _, value in seen]
    assert progress == sorted(progress), seen
    order = [ORDER[status] for status, _ in seen]
    assert order == sorted(order), seen
    assert seen[-1] == ("completed", 100)


async def test_realistic_task_is_seen_pending_then_processing_then_completed(
    clocked: EvoLink, clock: ManualClock
) -> None:
    task = await clocked.created(size="1:1", quality="2K")
    assert task["task_info"]["estimated_time"] > 0
    statuses, estimates = [], []
    for _ in range(40):
        reply = (await clocked.query(task["id"])).json()
        statuses.append(reply["status"])
        estimates.append(reply["task_info"].get("estimated_time"))
        if reply["status"] == "completed":
            break
        clock.advance(0.25)
    assert statuses[0] == "pending" and "processing" in statuses and statuses[-1] == "completed"
    assert estimates[-1] is None
    running = [value for value in estimates if value is not None]
    assert running == sorted(running, reverse=True)


async def test_a_failed_task_carries_the_task_error_and_keeps_its_progress(
    clocked: EvoLink, clock: ManualClock
) -> None:
    task = await clocked.created(n=2)
    clock.advance(1.5)
    before = (await clocked.query(task["id"])).json()
    assert before["status"] == "processing"
    present(clocked.runtime.jobs.get(task["id"])).fail(
        Failure("content_policy_violation", "Content policy violation."), clock.now()
    )
    clock.advance(1.0)
    reply = (await clocked.query(task["id"])).json()
    assert reply["status"] == "failed"
    assert reply["error"] == {
        "code": "content_policy_violation",
        "message": "Content policy violation.",
        "type": "task_error",
    }
    assert reply["progress"] >= before["progress"] and reply["progress"] < 100
    assert reply["task_info"] == {"can_cancel": False}
    assert "results" not in reply and "usage" not in reply


async def test_a_cancelled_task_reports_request_cancelled(clocked: EvoLink) -> None:
    task = await clocked.created()
    clocked.runtime.jobs.cancel(task["id"])
    reply = (await clocked.query(task["id"])).json()
    assert (reply["status"], reply["progress"]) == ("cancelled", 0)
    assert reply["error"]["code"] == "request_cancelled" and reply["error"]["type"] == "task_error"


async def test_results_expire_after_24_hours(clocked: EvoLink, clock: ManualClock) -> None:
    task = await clocked.created()
    clock.advance(30)
    done = (await clocked.query(task["id"])).json()
    assert done["status"] == "completed"
    finished_at = present(present(clocked.runtime.jobs.get(task["id"])).finished_at)
    clock.set(finished_at + 86_400 - 1)
    assert (await clocked.query(task["id"])).status_code == 200
    assert (await clocked.client.get(done["results"][0])).status_code == 200
    clock.set(finished_at + 86_400)
    response = await clocked.query(task["id"])
    assert response.status_code == 404
    assert error_of(response) == {
        "code": 404,
        "message": "Task not found or expired",
        "type": "not_found_error",
        "param": "task_id",
    }
    assert (await clocked.client.get(done["results"][0])).status_code == 404


async def test_result_validity_is_a_setting(make_evolink: EvoLinkFactory, clock: ManualClock) -> None:
    evolink = await make_evolink(clock=clock, evolink_result_ttl=60)
    task = await evolink.created()
    done = (await evolink.query(task["id"])).json()
    clock.advance(59.5)
    assert (await evolink.client.get(done["results"][0])).status_code == 200
    clock.advance(0.5)
    assert (await evolink.query(task["id"])).status_code == 404
    assert (await evolink.client.get(done["results"][0])).status_code == 404


async def test_failed_tasks_expire_too(make_evolink: EvoLinkFactory, clock: ManualClock) -> None:
    evolink = await make_evolink(clock=clock, evolink_result_ttl=10)
    task = await evolink.created(image_urls=["https://gone.invalid/a.png"])
    assert (await evolink.query(task["id"])).json()["status"] == "failed"
    clock.advance(10)
    assert (await evolink.query(task["id"])).status_code == 404


@pytest.mark.parametrize(
    "task_id",
    ["abc", "task-1757165031-abcdefgh", "TASK-UNIFIED-1-abcdefgh", "unified-task", " task-unified-1-abcdefgh"],
)
async def test_malformed_ids_are_400(make_evolink: EvoLinkFactory, task_id: str) -> None:
    integer = await make_evolink()
    response = await integer.query(task_id)
    assert response.status_code == 400
    assert error_of(response) == {
        "code": 400,
        "message": "Invalid task ID format",
        "type": "invalid_request_error",
        "param": "task_id",
    }
    string = await make_evolink(evolink_error_codes="string")
    assert error_of(await string.query(task_id)) == {
        "code": "invalid_task_id",
        "message": "Invalid task ID format, must start with 'task-unified-'",
        "type": "invalid_request_error",
        "param": "task_id",
    }


@pytest.mark.parametrize("task_id", ["task-unified-1757165031-seedream4d", "task-unified-1-abcdefgh", "task-unified-"])
async def test_unknown_ids_are_404(make_evolink: EvoLinkFactory, task_id: str) -> None:
    response = await (await make_evolink()).query(task_id)
    assert response.status_code == 404 and error_of(response)["message"] == "Task not found or expired"
    string = await make_evolink(evolink_error_codes="string")
    assert error_of(await string.query(task_id)) == {
        "code": "task_not_found",
        "message": "The requested task could not be found",
        "type": "invalid_request_error",
    }


async def test_reset_forgets_tasks(evolink: EvoLink) -> None:
    task = await evolink.created()
    await evolink.client.post("/_emulator/reset")
    assert (await evolink.query(task["id"])).status_code == 404


async def test_job_retention_bounds_the_tasks_kept(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(job_retention=3)
    ids = [(await evolink.created())["id"] for _ in range(5)]
    assert [(await evolink.query(task_id)).status_code for task_id in ids] == [404, 404, 200, 200, 200]
