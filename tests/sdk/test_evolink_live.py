"""EvoLink over real sockets: a real server, a plain HTTP client, and a real loopback callback receiver.

EvoLink's only official client (the EvoLink MCP server) hard-codes https://api.evolink.ai, so it cannot
be pointed at the emulator; any HTTP client is the reference here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator import read_metadata
from tests.sdk.live import LiveEmulator, WebhookSink


@pytest.fixture
def receiver() -> Iterator[WebhookSink]:
    with WebhookSink(status=204) as receiver:
        yield receiver


def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_create_poll_download_and_callback_over_real_sockets(receiver: WebhookSink) -> None:
    with LiveEmulator(timing="instant") as live, httpx.Client(base_url=f"{live.base}/evolink") as client:
        headers = {"Authorization": "Bearer live-key"}
        payload = {
            "model": "doubao-seedream-4.0",
            "prompt": "generate 2 images of kites",
            "n": 2,
            "size": "4:3",
            "quality": "1K",
            "callback_url": receiver.url,
        }
        task = client.post("/v1/images/generations", json=payload, headers=headers).json()
        assert task["status"] == "pending"
        wait_for(lambda: client.get(f"/v1/tasks/{task['id']}", headers=headers).json()["status"] == "completed")
        done = client.get(f"/v1/tasks/{task['id']}", headers=headers).json()
        [received] = receiver.wait_for(1)
        assert json.loads(received.body) == done
        assert received.headers["content-type"] == "application/json"
        for index, url in enumerate(done["results"]):
            record = read_metadata(httpx.get(url).content)
            assert (record["job_id"], record["index"], record["width"], record["height"]) == (
                task["id"],
                index,
                1152,
                864,
            )
        [entry] = [e for e in live.runtime.journal.entries(surface="evolink") if e.route.startswith("POST")]
        assert len(entry.warnings) == 2, "plain HTTP and loopback: both noted as fidelity warnings"


def test_strict_server_refuses_the_loopback_receiver(receiver: WebhookSink) -> None:
    with LiveEmulator(timing="instant", strict=True) as live:
        response = httpx.post(
            f"{live.base}/evolink/v1/images/generations",
            json={"model": "doubao-seedream-4.0", "prompt": "kites", "callback_url": receiver.url},
            headers={"Authorization": "Bearer live-key"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "callback_url"
    assert receiver.received == []
