"""The official runware 0.5.24 client (WebSocket only), unchanged but for its URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.core.clock import ManualClock
from tests.sdk.live import LiveEmulator
from tests.sdk.runware_support import drop_mid_task, evidence, t2i
from tests.sdk.venvs import finish, python_for, run_script, start_script
from tests.support import image_bytes

pytestmark = pytest.mark.sdk
SCRIPT = "runware_0524.py"


def fields(task: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in task.items() if key != "taskType"}


@pytest.fixture(scope="module")
def python() -> Path:
    return python_for("runware-0.5.24", "runware==0.5.24")


@pytest.fixture(scope="module")
def outcomes(python: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], LiveEmulator]]:
    reference = tmp_path_factory.mktemp("refs") / "wide.png"
    reference.write_bytes(image_bytes(160, 90, "PNG"))
    cases: list[dict[str, Any]] = [
        {"name": "sync_40", "task": fields(t2i(seed=5417, providerSettings={"bytedance": {"maxSequentialImages": 1}}))},
        {
            "name": "sync_45",
            "task": fields(
                t2i(
                    "bytedance:seedream@4.5",
                    width=2048,
                    height=2048,
                    numberResults=2,
                    includeCost=True,
                    resolution=None,
                )
            ),
        },
        {"name": "async_poll", "task": fields(t2i(numberResults=2)), "poll": True},
        {"name": "base64_4k", "task": fields(t2i(width=4096, height=4096, outputType="base64Data"))},
        {"name": "data_uri_4k", "task": fields(t2i(width=4096, height=4096, outputType="dataURI"))},
        {"name": "upload_reference", "task": fields(t2i("bytedance:seedream@4.5")), "upload": str(reference)},
        {"name": "invalid_prompt", "task": fields(t2i(positivePrompt="x" * 2001))},
    ]
    for case in cases:
        case["task"] = {key: value for key, value in case["task"].items() if value is not None}
    with LiveEmulator(timing="fast") as live:
        yield run_script(python, SCRIPT, {"ws": f"{live.ws_base}/runware/v1", "cases": cases}), live


def test_text_to_image_on_seedream_40(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    [image] = outcomes[0]["sync_40"]["ok"]
    assert image["seed"] == 5417
    record = evidence(image)
    assert (record["width"], record["height"], record["model"]) == (2304, 1728, "bytedance:5@0")


def test_text_to_image_on_seedream_45(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    images = outcomes[0]["sync_45"]["ok"]
    assert len(images) == 2
    assert {image["cost"] for image in images} == {0.04}
    assert {evidence(image)["model"] for image in images} == {"bytedance:seedream@4.5"}


def test_async_delivery_then_get_response(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    images = outcomes[0]["async_poll"]["ok"]
    assert len(images) == 2
    assert len({image["imageUUID"] for image in images}) == 2
    assert {evidence(image)["job_id"] for image in images} == {images[0]["taskUUID"]}


@pytest.mark.parametrize("case, field", [("base64_4k", "imageBase64Data"), ("data_uri_4k", "imageDataURI")])
def test_inline_4k_outputs_arrive_whole(outcomes: tuple[dict[str, Any], LiveEmulator], case: str, field: str) -> None:
    [image] = outcomes[0][case]["ok"]
    assert len(image[field]) > 2**20
    assert evidence(image)["width"] == 4096


def test_uploaded_file_serves_as_reference(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    [image] = outcomes[0]["upload_reference"]["ok"]
    record = evidence(image)
    assert (record["width"], record["height"], record["reference_count"]) == (2560, 1440, 1)


def test_invalid_prompt_raises_the_server_code(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    error = outcomes[0]["invalid_prompt"]["error"]
    assert error["code"] == "invalidPositivePrompt"
    assert error["data"]["taskType"] == "imageInference"


def test_sync_task_recovers_from_an_abrupt_drop(python: Path) -> None:
    clock = ManualClock()
    with LiveEmulator(clock=clock, timing="realistic") as live:
        case = {"name": "dropped", "task": fields(t2i(seed=77))}
        process = start_script(python, SCRIPT, {"ws": f"{live.ws_base}/runware/v1", "cases": [case]})
        task_uuid = drop_mid_task(live, clock)
        result = finish(process, timeout=90)
        resent = [e for e in live.runtime.journal.entries(surface="runware") if task_uuid in e.ids]
        [image] = result["dropped"]["ok"]
        assert image["taskUUID"] == task_uuid and evidence(image)["seed"] == 77
    assert any(entry.status == 400 for entry in resent), "the re-sent task met conflictTaskUUID"
