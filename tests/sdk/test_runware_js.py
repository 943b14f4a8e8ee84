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
from tests.sdk.runware_support import drop_mid_task, evidence, t2i

pytestmark = pytest.mark.sdk
SCRIPT = "runware_js.js"
CASES = [
    {"name": "sync_45", "task": t2i("bytedance:seedream@4.5", numberResults=2, includeCost=True)},
    {"name": "async_40", "task": t2i(seed=5417, deliveryMethod="async")},
    {"name": "several", "task": t2i(numberResults=3, outputType="dataURI", outputFormat="PNG")},
    {"name": "invalid_prompt", "task": t2i(positivePrompt="x" * 2001)},
    {"name": "invalid_size", "task": t2i(width=1000, height=1000)},
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
