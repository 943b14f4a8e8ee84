import pytest

from contracts.counts import ask
from contracts.wiro import rules
from emulator.core.clock import ManualClock
from emulator.core.jobs import Failure, Plan
from tests.support import contract_errors, drive, present

from .conftest import (
    Wiro,
    error_of,
    signed_headers,
)

T0 = 1_700_000_000.0
TIME_FIELDS = (
    "starttime",
    "endtime",
    "createtime",
    "canceltime",
    "assigntime",
    "accepttime",
    "preprocessstarttime",
    "preprocessendtime",
    "postprocessstarttime",
    "postprocessendtime",
)
SUCCESS = rules.statuses()
FAILED = ["task_queue", *rules.LIFECYCLE["running"], *rules.LIFECYCLE["failed"], "task_postprocess_end"]


def stamp(moment: float) -> str:
    return str(int(moment))


def frames(wiro: Wiro, taskid: str) -> list[str]:
    return [frame["type"] for frame in wiro.stored(taskid).frames]


@pytest.fixture
async def slow(make_wiro, clock: ManualClock) -> Wiro:
    """Realistic timing on a manual clock: queued 0.5 s, then about 2 s per 2K image."""
    return await make_wiro(clock=clock, timing="realistic")


async def detail(wiro: Wiro, taskid: str) -> dict:
    response = await wiro.detail(taskid=taskid)
    body = response.json()
    assert response.status_code == 200 and contract_errors("wiro", "taskDetailResult", body) == [], body
    assert list(body) == ["total", "errors", "tasklist", "result"]
    return body["tasklist"][0]


async def test_detail_fills_the_record_as_the_task_progresses(slow: Wiro, clock: ManualClock) -> None:
    reply = await slow.create(
        prompt=ask("a lighthouse at dusk", 2), maxImages=2, callbackUrl="https://hooks.example/wiro"
    )
    taskid = reply["taskid"]

    queued = await detail(slow, taskid)
    assert queued["status"] == "task_queue" and queued["createtime"] == stamp(T0)
    assert all(queued[name] == "0" for name in TIME_FIELDS if name != "createtime")
    assert (queued["pexit"], queued["outputs"], queued["totalcost"], queued["elapsedseconds"], queued["size"]) == (
        "",
        [],
        "0",
        "0.0000",
        "0",
    )
    assert (
        queued["socketaccesstoken"] == reply["socketaccesstoken"]
        and queued["callbackurl"] == "https://hooks.example/wiro"
    )
    assert queued["cps"] == "0.000585000000" and queued["projectid"] == "699" and queued["runtype"] == "model"
    assert queued["categories"] == '["tool","image-to-image","quick-showcase","compare-landscape"]'

    clock.advance(1.0)
    running = await detail(slow, taskid)
    started = T0 + 0.5
    assert running["status"] == "task_start"
    for name in ("accepttime", "preprocessstarttime", "preprocessendtime", "assigntime", "starttime"):
        assert running[name] == stamp(started)
    assert running["elapsedseconds"] == "0.5000" and running["endtime"] == "0" and running["pexit"] == ""

    job = present(slow.runtime.jobs.get(running["uuid"]))
    first_output = job._steps[0].at
    clock.set(first_output)
    output = await detail(slow, taskid)
    assert output["status"] == "task_output" and output["debugoutput"] == "Generate: 1/2 images (50%)"

    finish = job._steps[-1].at
    clock.set(finish + 0.25)
    ended = await detail(slow, taskid)
    assert ended["status"] == "task_postprocess_start"
    assert (
        ended["endtime"] == stamp(finish) and ended["postprocessstarttime"] == stamp(finish) and ended["pexit"] == "0"
    )
    assert ended["outputs"] == [] and ended["totalcost"] == "0"

    await slow.finished(taskid)
    done = await detail(slow, taskid)
    elapsed = finish - started
    assert done["elapsedseconds"] == f"{elapsed:.4f}"
    assert done["totalcost"] == f"{0.000585 * elapsed:.12f}" and float(done["totalcost"]) > 0
    assert done["postprocessendtime"] == stamp(finish + 0.25)
    assert [output["name"] for output in done["outputs"]] == ["0.png", "1.png"]
    assert all(output["uuid"] == done["uuid"] and output["contenttype"] == "image/png" for output in done["outputs"])
    assert done["size"] == str(sum(int(output["size"]) for output in done["outputs"]))
    assert frames(slow, taskid) == SUCCESS[:7] + ["task_output"] + SUCCESS[7:]


async def test_detail_by_token_equals_detail_by_id(wiro: Wiro) -> None:
    reply = await wiro.create()
    await wiro.finished(reply["taskid"])
    by_id = (await wiro.detail(taskid=reply["taskid"])).json()
    by_token = (await wiro.detail(tasktoken=reply["socketaccesstoken"])).json()
    by_socket_key = (await wiro.detail(socketaccesstoken=reply["socketaccesstoken"])).json()
    by_number = (await wiro.detail(taskid=int(reply["taskid"]))).json()
    assert by_id == by_token == by_socket_key == by_number


async def test_taskid_wins_over_the_token(wiro: Wiro) -> None:
    first, second = await wiro.create(), await wiro.create()
    body = (await wiro.detail(taskid=first["taskid"], tasktoken=second["socketaccesstoken"])).json()
    assert body["tasklist"][0]["id"] == first["taskid"]


async def test_detail_errors(wiro: Wiro) -> None:
    assert error_of(await wiro.detail()) == (200, 0, "taskid or socketaccesstoken is required")
    assert error_of(await wiro.detail(other="x")) == (200, 0, "taskid or socketaccesstoken is required")
    assert error_of(await wiro.detail(taskid="999")) == (200, 1, "There is no task yet.")
    # n8n's credential test: any 2xx passes
    assert error_of(await wiro.detail(tasktoken="test")) == (200, 1, "There is no task yet.")
    assert error_of(await wiro.detail(taskid={"nested": 1})) == (200, 0, "Request parameters are invalid.")


async def test_tasks_of_another_project_are_not_yours(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("k1:s1", "k2:s2"), key="k1", secret="s1")
    reply = await wiro.create()
    response = await wiro.client.post(
        "/wiro/v1/Task/Detail", json={"taskid": reply["taskid"]}, headers=signed_headers("k2", "s2")
    )
    assert error_of(response) == (200, 0, "You don't have any permission for this action.")


async def test_cancel_a_queued_task(slow: Wiro, clock: ManualClock) -> None:
    reply = await slow.create()
    clock.advance(0.2)
    response = await slow.cancel(taskid=reply["taskid"])
    body = response.json()
    assert response.status_code == 200 and contract_errors("wiro", "taskActionResult", body) == [], body
    assert list(body) == ["errors", "tasklist", "result"]
    [task] = body["tasklist"]
    assert task["status"] == "task_cancel" and task["canceltime"] == stamp(T0 + 0.2)
    assert task["starttime"] == "0" and task["outputs"] == [] and task["totalcost"] == "0"
    clock.advance(60)
    assert (await detail(slow, reply["taskid"]))["status"] == "task_cancel"
    assert frames(slow, reply["taskid"]) == ["task_queue", "task_cancel"]


async def test_cancel_accepts_the_token_keys_too(slow: Wiro) -> None:
    for key in ("tasktoken", "socketaccesstoken"):
        reply = await slow.create()
        body = (await slow.cancel(**{key: reply["socketaccesstoken"]})).json()
        assert body["tasklist"][0]["status"] == "task_cancel"


async def test_cancel_refuses_tasks_that_left_the_queue(slow: Wiro, clock: ManualClock) -> None:
    reply = await slow.create()
    clock.advance(1)
    assert error_of(await slow.cancel(taskid=reply["taskid"])) == (200, 1, "Task is not in a cancellable state.")
    assert (await detail(slow, reply["taskid"]))["status"] == "task_start"


@pytest.mark.parametrize("key", ["taskid", "socketaccesstoken", "tasktoken"])
async def test_kill_a_running_task(slow: Wiro, clock: ManualClock, key: str) -> None:
    reply = await slow.create()
    clock.advance(1.5)
    value = reply["taskid"] if key == "taskid" else reply["socketaccesstoken"]
    response = await slow.kill(**{key: value})
    body = response.json()
    assert contract_errors("wiro", "taskActionResult", body) == [], body
    [task] = body["tasklist"]
    assert task["status"] == "task_cancel" and task["canceltime"] == stamp(T0 + 1.5)
    assert task["elapsedseconds"] == "1.0000" and task["totalcost"] == "0" and task["outputs"] == []
    clock.advance(60)
    await drive(clock, lambda: True)
    assert frames(slow, reply["taskid"]) == ["task_queue", *rules.LIFECYCLE["running"], "task_cancel"]


async def test_kill_refuses_queued_and_finished_tasks(slow: Wiro, clock: ManualClock) -> None:
    reply = await slow.create()
    assert error_of(await slow.kill(taskid=reply["taskid"])) == (
        200,
        1,
        "Task could not be killed: the task is still queued; cancel it with Task/Cancel",
    )
    clock.advance(30)
    await detail(slow, reply["taskid"])
    assert error_of(await slow.kill(taskid=reply["taskid"])) == (
        200,
        1,
        "Task could not be killed: the task has already finished",
    )
    assert error_of(await slow.cancel(taskid=reply["taskid"])) == (200, 1, "Task is not in a cancellable state.")


async def test_kill_or_cancel_of_an_unknown_task(wiro: Wiro) -> None:
    assert error_of(await wiro.kill(taskid="1")) == (200, 1, "There is no task yet.")
    assert error_of(await wiro.cancel()) == (200, 0, "taskid or socketaccesstoken is required")


async def test_a_planned_failure_ends_with_a_non_zero_pexit(slow: Wiro, clock: ManualClock) -> None:
    slow.service.tasks.planner = lambda pixels, count: Plan(0.5, (1.0,), failure=Failure("exit", "CUDA out of memory"))
    reply = await slow.create(callbackUrl="https://hooks.example/fail")
    clock.advance(5)
    task = await detail(slow, reply["taskid"])
    assert task["status"] == "task_postprocess_end" and task["pexit"] == "1"
    assert task["outputs"] == [] and task["totalcost"] == "0" and task["size"] == "0"
    assert task["debugerror"] == "CUDA out of memory" and task["postprocessendtime"] == stamp(T0 + 1.5)
    assert frames(slow, reply["taskid"]) == FAILED
    last = slow.stored(reply["taskid"]).frames[-1]
    assert (last["success"], last["terminal"], last["exitCode"], last["message"]) == (False, True, 1, [])


async def test_a_running_task_can_be_failed_by_the_engine(slow: Wiro, clock: ManualClock) -> None:
    reply = await slow.create()
    clock.advance(1)
    task = await detail(slow, reply["taskid"])
    present(slow.runtime.jobs.get(task["uuid"])).fail(Failure("oom", "Killed by the OOM killer"), clock.now())
    failed = await detail(slow, reply["taskid"])
    assert (failed["status"], failed["pexit"], failed["debugerror"]) == (
        "task_postprocess_end",
        "1",
        "Killed by the OOM killer",
    )
    error_frames = [f for f in slow.stored(reply["taskid"]).frames if f["type"] in ("task_error", "task_error_full")]
    assert [f["message"] for f in error_frames] == ["Killed by the OOM killer", {"raw": "Killed by the OOM killer"}]


async def test_instant_timing_finishes_without_polling(wiro: Wiro) -> None:
    reply = await wiro.create(prompt=ask("a lighthouse at dusk", 3), maxImages=3)
    task = await wiro.finished(reply["taskid"])
    assert task["pexit"] == "0" and len(task["outputs"]) == 3
    assert frames(wiro, reply["taskid"]).count("task_output") == 3


async def test_reset_forgets_tasks(wiro: Wiro) -> None:
    reply = await wiro.create()
    await wiro.client.post("/_emulator/reset")
    assert error_of(await wiro.detail(taskid=reply["taskid"])) == (200, 1, "There is no task yet.")


async def test_old_tasks_are_evicted_beyond_retention(make_wiro) -> None:
    wiro = await make_wiro(job_retention=2)
    replies = [await wiro.create() for _ in range(3)]
    assert error_of(await wiro.detail(tasktoken=replies[0]["socketaccesstoken"])) == (200, 1, "There is no task yet.")
    assert (await wiro.detail(taskid=replies[2]["taskid"])).json()["result"] is True


async def test_a_postprocess_fault_ends_the_task_as_failed(wiro: Wiro, monkeypatch) -> None:
    async def broken(spec):
        raise OSError("disk full")

    monkeypatch.setattr(wiro.runtime.artifacts.cache, "get", broken)
    reply = await wiro.create()
    task = await wiro.finished(reply["taskid"])
    assert (task["status"], task["pexit"], task["outputs"], task["totalcost"]) == ("task_postprocess_end", "1", [], "0")
    assert task["debugerror"] == "postprocess failed: OSError: disk full"


async def test_retention_never_forgets_a_task_still_running(make_wiro, clock: ManualClock) -> None:
    wiro = await make_wiro(clock=clock, timing="realistic", job_retention=1)
    first, second = await wiro.create(), await wiro.create()
    assert (await wiro.task(first["taskid"]))["status"] == "task_queue", "kept: its job is not finished"
    assert (await wiro.detail(tasktoken=first["socketaccesstoken"])).json()["result"] is True
    await wiro.cancel(taskid=first["taskid"])
    third = await wiro.create()
    assert error_of(await wiro.detail(taskid=first["taskid"])) == (200, 1, "There is no task yet.")
    assert error_of(await wiro.detail(tasktoken=first["socketaccesstoken"])) == (200, 1, "There is no task yet.")
    for kept in (second, third):
        assert (await wiro.detail(tasktoken=kept["socketaccesstoken"])).json()["result"] is True
