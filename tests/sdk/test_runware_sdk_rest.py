"""The official runware-sdk 1.8.0 client over REST against the emulator, changed only in its URL."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import read_metadata
from tests.sdk.live import LiveEmulator
from tests.sdk.venvs import python_for, run_script

pytestmark = pytest.mark.sdk


@pytest.fixture(scope="module")
def outcomes() -> Iterator[tuple[dict[str, Any], LiveEmulator]]:
    python = python_for("runware-sdk-1.8.0", "runware-sdk==1.8.0")
    with LiveEmulator(timing="fast") as live:
        cases = [
            {
                "name": "async_default",
                "task": {
                    "taskType": "imageInference",
                    "model": "bytedance:5@0",
                    "positivePrompt": "a porcelain dragon bakery",
                    "width": 2304,
                    "height": 1728,
                    "seed": 5417,
                    "providerSettings": {"bytedance": {"maxSequentialImages": 1}},
                },
            },
            {
                "name": "sync_45",
                "task": {
                    "taskType": "imageInference",
                    "model": "bytedance:seedream@4.5",
                    "positivePrompt": "a lighthouse at dusk",
                    "resolution": "2K",
                    "numberResults": 2,
                    "includeCost": True,
                    "deliveryMethod": "sync",
                    "outputType": "dataURI",
                    "outputFormat": "PNG",
                },
            },
            {
                "name": "invalid_prompt",
                "task": {
                    "taskType": "imageInference",
                    "model": "bytedance:5@0",
                    "positivePrompt": "x" * 2001,
                    "width": 2048,
                    "height": 2048,
                },
            },
            {
                "name": "invalid_size_sync",
                "task": {
                    "taskType": "imageInference",
                    "model": "bytedance:5@0",
                    "positivePrompt": "x",
                    "width": 1000,
                    "height": 1000,
                    "deliveryMethod": "sync",
                },
            },
        ]
        result = run_script(python, "runware_sdk_rest.py", {"base": f"{live.base}/runware/v1", "cases": cases})
        yield result, live


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_default_async_delivery_polls_and_returns_the_image(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    result, live = outcomes
    [item] = result["async_default"]["ok"]
    assert item["seed"] == 5417
    record = read_metadata(download(item["imageURL"]))
    assert (record["width"], record["height"], record["model"]) == (2304, 1728, "bytedance:5@0")
    sent = [entry for entry in live.runtime.journal.entries(surface="runware") if item["taskUUID"] in entry.ids]
    assert len(sent) >= 2, "the SDK acknowledges then polls with getResponse"
    assert all(entry.valid and entry.status == 200 for entry in sent)


def test_sync_delivery_returns_every_data_uri(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    import base64

    items = outcomes[0]["sync_45"]["ok"]
    assert len(items) == 2
    indexes = set()
    for item in items:
        assert item["cost"] == 0.04
        header, encoded = item["imageDataURI"].split(",", 1)
        assert header == "data:image/png;base64"
        record = read_metadata(base64.b64decode(encoded))
        assert (record["width"], record["height"], record["seed"]) == (2048, 2048, item["seed"])
        indexes.add(record["index"])
    assert indexes == {0, 1}


def test_invalid_prompt_surfaces_as_a_validation_error(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    error = outcomes[0]["invalid_prompt"]["error"]
    assert error["code"] == "validation"
    assert error["parameter"] == "positivePrompt"
    assert error["status_code"] == 400
    assert error["task_type"] == "imageInference"
    assert "2000" in error["message"]


def test_invalid_size_names_both_dimensions(outcomes: tuple[dict[str, Any], LiveEmulator]) -> None:
    error = outcomes[0]["invalid_size_sync"]["error"]
    assert (error["code"], error["parameter"], error["status_code"]) == ("validation", "width", 400)
