"""The official @runware/sdk-js 1.3.2 client against the emulator, over its WebSocket, changed only in its URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance import npm
from emulator.core.clock import ManualClock
from tests.sdk.live import LiveEmulator
from tests.sdk.npm import finish, modules_for, run_node, start_node
from tests.sdk.runware_support import drop_mid_task, evidence, t2i, wait_for

pytestmark = pytest.mark.sdk
SCRIPT = "runware_js.js"
CASES = [
    {"name": "sync_45", "task": t2i("bytedance:seedream@4.5", numberResults=2, includeCost=True)},
    {"name": "async_40", "task": t2i(seed=5417, deliveryMethod="async")},
    {"name": "several", "task": t2i(numberResults=3, outputType="dataURI", outputFormat="PNG")},
    {"name": "invalid_prompt", "task": t2i(positivePrompt="x" * 2001)},
    {"name": "invalid_size", "task": t2i(width=1000, height=1000)},
    {"name": "seed_zero", "task": t2i(seed=0)},
    # imageInference(params, extra) spreads `extra` over the task as given: the way to send a falsy value.
    {"name": "seed_zero_extra", "task": t2i(), "extra": {"seed": 0}},
]


@pytest.fixture(scope="module")
def modules() -> Path:
    return modules_for("runware-sdk-js-1.3.2", npm.RUNWARE_JS)


@pytest.fixture(scope="module")
def outcomes(modules: Path) -> Iterator[tuple[dict[str, Any], LiveEmulator]]:
    with LiveEmulator(timing="fast") as live:
        yield run_node(modules, SCRIPT, {"url": f"{live.ws_base}/runware/v1", "cases": CASES}), live


def test_sync_delivery_returns_every_result_on_the_socket(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    items = outcomes[0]["sync_45"]["ok"]
    assert len(items) == 2 and {item["cost"] for item in items} == {0.04}
    assert {evidence(item)["index"] for item in items} == {0, 1}
    assert {(evidence(item)["width"], evidence(item)["height"]) for item in items} == {(2048, 2048)}


def test_async_delivery_is_an_ack_then_get_response_polls(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    result, live = outcomes
    outcome = result["async_40"]
    assert outcome["ack"] == {"taskType": "imageInference", "taskUUID": outcome["ack"]["taskUUID"]}
    [item] = outcome["ok"]
    assert item["taskUUID"] == outcome["ack"]["taskUUID"] and item["status"] == "success"
    record = evidence(item)
    assert (record["seed"], record["width"], record["height"]) == (5417, 2304, 1728)
    entries = [e for e in live.runtime.journal.entries(surface="runware") if item["taskUUID"] in e.ids]
    assert len(entries) >= 1 + outcome["polls"] and all(entry.valid for entry in entries)


def test_several_results_as_data_uris(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    items = outcomes[0]["several"]["ok"]
    assert len(items) == 3 and all(item["imageDataURI"].startswith("data:image/png;base64,") for item in items)
    assert sorted(evidence(item)["index"] for item in items) == [0, 1, 2]


def test_errors_reject_with_the_servers_error_object(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    # The client rejects with {error: <the server's error item>}, not an Error: `catch (e) { e.error.code }`.
    prompt, size = outcomes[0]["invalid_prompt"], outcomes[0]["invalid_size"]
    assert prompt["is_error"] is False and size["is_error"] is False
    assert (prompt["error"]["error"]["code"], prompt["error"]["error"]["parameter"]) == (
        "invalidPositivePrompt",
        "positivePrompt",
    )
    assert "width" in size["error"]["error"]["parameter"] and size["error"]["error"]["taskUUID"]


def test_async_task_survives_a_dropped_socket(modules: Path) -> None:
    clock = ManualClock()
    with LiveEmulator(clock=clock, timing="realistic") as live:
        case = {"name": "dropped", "task": t2i(seed=77, deliveryMethod="async")}
        # A poll lost with the socket waits out the client's timeoutDuration before it is re-sent.
        process = start_node(
            modules, SCRIPT, {"url": f"{live.ws_base}/runware/v1", "timeout_ms": 3000, "cases": [case]}
        )
        task_uuid = drop_mid_task(live, clock)
        result = finish(process, timeout=60)
        [item] = result["dropped"]["ok"]
        assert item["taskUUID"] == task_uuid and evidence(item)["seed"] == 77
        auths = [e for e in live.runtime.journal.entries(surface="runware") if e.transport == "ws" and not e.ids]
        assert len(auths) >= 2, "the client authenticated again on a new socket"


def test_a_seed_of_zero_is_dropped_unless_passed_as_the_second_argument(
    outcomes: tuple[dict[str, Any], LiveEmulator],
) -> None:
    # The client copies only truthy values of the fields it knows (`...seed ? {seed} : {}`), so seed 0 never
    # leaves it and the server draws a seed (docs/sdk-compatibility.md).
    [dropped] = outcomes[0]["seed_zero"]["ok"]
    [kept] = outcomes[0]["seed_zero_extra"]["ok"]
    assert evidence(dropped)["seed"] != 0
    assert evidence(kept)["seed"] == 0


def test_sync_task_on_a_dropped_socket_is_sent_again_as_a_new_task(modules: Path) -> None:
    # A sync task's results go to the socket that sent it. After a drop the client authenticates afresh (it
    # clears its connectionSessionUUID before reconnecting), waits out timeoutDuration, then re-sends the task
    # under a new taskUUID: the caller gets images, and production bills both tasks (docs/sdk-compatibility.md).
    clock = ManualClock()
    with LiveEmulator(clock=clock, timing="realistic") as live:
        case = {"name": "dropped", "task": t2i(seed=78)}
        process = start_node(
            modules, SCRIPT, {"url": f"{live.ws_base}/runware/v1", "timeout_ms": 2000, "cases": [case]}
        )
        first = drop_mid_task(live, clock)
        second = wait_for(lambda: _other_task(live, first), what="the task to be sent again")
        live.advance(60)
        result = finish(process, timeout=60)
        [item] = result["dropped"]["ok"]
        assert item["taskUUID"] == second != first and evidence(item)["seed"] == 78
        assert live.run(lambda: [job.id for job in live.runtime.jobs]) == [first, second], (
            "the emulator holds two tasks"
        )


def test_one_try_per_task_with_global_max_retries_1(modules: Path) -> None:
    # The documented workaround: no re-send, so a task lost with its socket ends in the client's timeout.
    clock = ManualClock()
    with LiveEmulator(clock=clock, timing="realistic") as live:
        case = {"name": "dropped", "task": t2i(seed=79)}
        payload = {"url": f"{live.ws_base}/runware/v1", "timeout_ms": 2000, "max_retries": 1, "cases": [case]}
        process = start_node(modules, SCRIPT, payload)
        first = drop_mid_task(live, clock)
        result = finish(process, timeout=60)
        assert result["dropped"]["error"] == "Response could not be received from server for getting images"
        assert live.run(lambda: [job.id for job in live.runtime.jobs]) == [first]


def _other_task(live: LiveEmulator, first: str) -> str | None:
    for entry in live.runtime.journal.entries(surface="runware"):
        if entry.transport == "ws" and entry.ids and entry.ids[0] != first:
            return entry.ids[0]
    return None
