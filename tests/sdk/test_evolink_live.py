"""EvoLink over real sockets: a real server, a plain HTTP client, and a real loopback callback receiver.

EvoLink's only official client (the EvoLink MCP server) hard-codes https://api.evolink.ai, so it cannot
be pointed at the emulator; any HTTP client is the reference here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from emulator import read_metadata
from tests.sdk.live import LiveEmulator


class CallbackReceiver:
    """A plain-HTTP endpoint on 127.0.0.1, like the local receivers people test callbacks with."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.headers.append(dict(self.headers))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/evolink/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as receiver:
        yield receiver


def wait_for(condition: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_create_poll_download_and_callback_over_real_sockets(receiver: CallbackReceiver) -> None:
    with LiveEmulator(timing="instant") as live, httpx.Client(base_url=f"{live.base}/evolink") as client:
        headers = {"Authorization": "Bearer live-key"}
        payload = {"model": "doubao-seedream-4.0", "prompt": "generate 2 images of kites", "n": 2, "size": "4:3",
                   "quality": "1K", "callback_url": receiver.url}
        task = client.post("/v1/images/generations", json=payload, headers=headers).json()
        assert task["status"] == "pending"
        wait_for(lambda: client.get(f"/v1/tasks/{task['id']}", headers=headers).json()["status"] == "completed")
        done = client.get(f"/v1/tasks/{task['id']}", headers=headers).json()
        wait_for(lambda: len(receiver.bodies) == 1)
        assert receiver.bodies == [done]
        assert receiver.headers[0]["Content-Type"] == "application/json"
        for index, url in enumerate(done["results"]):
            record = read_metadata(httpx.get(url).content)
            assert (record["job_id"], record["index"], record["width"], record["height"]) == (task["id"], index, 1152, 864)
        [entry] = [e for e in live.runtime.journal.entries(surface="evolink") if e.route.startswith("POST")]
        assert len(entry.warnings) == 2, "plain HTTP and loopback: both noted as fidelity warnings"


def test_strict_server_refuses_the_loopback_receiver(receiver: CallbackReceiver) -> None:
    with LiveEmulator(timing="instant", strict=True) as live:
        response = httpx.post(
            f"{live.base}/evolink/v1/images/generations",
            json={"model": "doubao-seedream-4.0", "prompt": "kites", "callback_url": receiver.url},
            headers={"Authorization": "Bearer live-key"},
        )
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "callback_url"
    assert receiver.bodies == []
