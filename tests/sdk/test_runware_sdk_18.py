"""The official runware-sdk 1.8.0 client, unchanged but for its URLs, over WebSocket and REST."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.core.clock import ManualClock
from tests.sdk.live import LiveEmulator
from tests.sdk.runware_support import drop_mid_task, evidence, t2i
from tests.sdk.venvs import finish, python_for, run_script, start_script
from tests.support import data_uri

pytestmark = pytest.mark.sdk
SCRIPT = "runware_sdk_18.py"
CASES = [
    {"name": "async_40", "task": t2i(seed=5417, providerSettings={"bytedance": {"maxSequentialImages": 1}})},
    {
        "name": "sync_45",
        "task": t2i("bytedance:seedream@4.5", numberResults=2, includeCost=True, deliveryMethod="sync"),
    },
    {"name": "base64_4k", "task": t2i(width=4096, height=4096, outputType="base64Data", deliveryMethod="sync")},
    {"name": "data_uri_4k", "task": t2i(width=4096, height=4096, outputType="dataURI", deliveryMethod="sync")},
    {"name": "upload_reference", "task": t2i("bytedance:seedream@4.5"), "upload": data_uri(160, 90)},
    {"name": "invalid_prompt", "task": t2i(positivePrompt="x" * 2001)},
    {"name": "invalid_size", "task": t2i(width=1000, height=1000, deliveryMethod="sync")},
]


@pytest.fixture(scope="module")
def python() -> Path:
    return python_for("runware-sdk-1.8.0", "runware-sdk==1.8.0")


@pytest.fixture(scope="module", params=["websocket", "rest"])
def outcomes(request: pytest.FixtureRequest, python: Path) -> Iterator[tuple[str, dict[str, Any], LiveEmulator]]:
    with LiveEmulator(timing="fast") as live:
        payload = {
            "rest": f"{live.base}/runware/v1",
            "ws": f"{live.ws_base}/runware/v1",
            "transport": request.param,
            "cases": CASES,
        }
        yield request.param, run_script(python, SCRIPT, payload), live


def test_text_to_image_on_seedream_40_with_async_polling(outcomes: tuple[str, dict[str, Any], LiveEmulator]) -> None:
    transport, result, live = outcomes
    [item] = result["async_40"]["ok"]
    assert item["seed"] == 5417
    record = evidence(item)
    assert (record["width"], record["height"], record["model"]) == (2304, 1728, "bytedance:5@0")
    polls = [e for e in live.runtime.journal.entries(surface="runware") if item["taskUUID"] in e.ids]
    assert len(polls) >= 2, "acknowledged, then polled with getResponse"
    assert all(entry.valid for entry in polls)


def test_text_to_image_on_seedream_45_with_sync_delivery(outcomes: tuple[str, dict[str, Any], LiveEmulator]) -> None:
    items = outcomes[1]["sync_45"]["ok"]
    assert len(items) == 2
    assert {item["cost"] for item in items} == {0.04}
    assert {evidence(item)["index"] for item in items} == {0, 1}
    assert {(evidence(item)["width"], evidence(item)["height"]) for item in items} == {(2048, 2048)}


@pytest.mark.parametrize("case, field", [("base64_4k", "imageBase64Data"), ("data_uri_4k", "imageDataURI")])
def test_inline_4k_outputs(outcomes: tuple[str, dict[str, Any], LiveEmulator], case: str, field: str) -> None:
    transport, result, _ = outcomes
    if transport == "rest":
        [item] = result[case]["ok"]
        assert len(item[field]) > 2**20
        assert evidence(item)["width"] == 4096
    else:
        # runware-sdk 1.8.0 opens its socket with the websockets default max_size of 1 MiB, so a
        # 4K inline image closes the connection (1009) and the sync call fails: a real SDK defect
        # (docs/sdk-compatibility.md) that the emulator reproduces by sending the frame as Runware does.
        error = result[case]["error"]
        assert error["code"] == "connection"


def test_injected_connect_without_frame_limit_receives_4k_inline_images(python: Path) -> None:
    with LiveEmulator(timing="fast") as live:
        payload = {
            "rest": f"{live.base}/runware/v1",
            "ws": f"{live.ws_base}/runware/v1",
            "transport": "websocket",
            "unlimited_frames": True,
            "cases": [case for case in CASES if case["name"] in ("base64_4k", "data_uri_4k")],
        }
        result = run_script(python, SCRIPT, payload)
        for case, field in (("base64_4k", "imageBase64Data"), ("data_uri_4k", "imageDataURI")):
            [item] = result[case]["ok"]
            assert len(item[field]) > 2**20
            assert evidence(item)["width"] == 4096


def test_uploaded_image_serves_as_reference(outcomes: tuple[str, dict[str, Any], LiveEmulator]) -> None:
    [item] = outcomes[1]["upload_reference"]["ok"]
    record = evidence(item)
    assert (record["width"], record["height"], record["reference_count"]) == (2560, 1440, 1)


def test_invalid_prompt_is_a_validation_error(outcomes: tuple[str, dict[str, Any], LiveEmulator]) -> None:
    transport, result, _ = outcomes
    error = result["invalid_prompt"]["error"]
    assert (error["code"], error["parameter"], error["task_type"]) == ("validation", "positivePrompt", "imageInference")
    assert "2000" in error["message"]
    if transport == "rest":
        assert error["status_code"] == 400


def test_invalid_size_names_width(outcomes: tuple[str, dict[str, Any], LiveEmulator]) -> None:
    error = outcomes[1]["invalid_size"]["error"]
    assert (error["code"], error["parameter"]) == ("validation", "width")


def test_async_task_recovers_from_an_abrupt_drop(python: Path) -> None:
    clock = ManualClock()
    with LiveEmulator(clock=clock, timing="realistic") as live:
        case = {"name": "dropped", "task": t2i(seed=77), "timeout_ms": 60_000}
        payload = {
            "rest": f"{live.base}/runware/v1",
            "ws": f"{live.ws_base}/runware/v1",
            "transport": "websocket",
            "cases": [case],
        }
        process = start_script(python, SCRIPT, payload)
        task_uuid = drop_mid_task(live, clock)
        result = finish(process, timeout=90)
        [item] = result["dropped"]["ok"]
        assert item["taskUUID"] == task_uuid
        assert evidence(item)["seed"] == 77
