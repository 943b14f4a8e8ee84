"""The official fal-client (PyPI, unchanged) against the emulator over TLS: submit, status, result, subscribe,
cancel, run and webhook. Its hosts carry a path prefix; the emulator's CA is trusted through SSL_CERT_FILE."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.fixtures import fixture_url, resolved
from tests.sdk.live import LiveEmulator, WebhookSink
from tests.sdk.venvs import SCRIPTS, python_for

pytestmark = pytest.mark.sdk
REQUIREMENT = "fal-client==1.0.3"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEmulator]:
    tls = tmp_path_factory.mktemp("tls")
    with LiveEmulator(tls_dir=tls, provider="all", timing="fast", callback_exempt=("http://127.0.0.1",)) as server:
        yield server


def run_client(live: LiveEmulator, payload: dict[str, Any]) -> dict[str, Any]:
    python = python_for("fal-client-1.0.3", REQUIREMENT)
    host = live.url("fal").removeprefix("https://")
    assert live.tls is not None
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {
        "FAL_KEY": "emulator-id:emulator-secret",
        "FAL_RUN_HOST": f"{host}/run",
        "FAL_QUEUE_RUN_HOST": f"{host}/queue",
        "SSL_CERT_FILE": str(live.tls.ca_cert),
        "REQUESTS_CA_BUNDLE": str(live.tls.ca_cert),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(payload, handle)
    done = subprocess.run(
        [str(python), str(SCRIPTS / "fal_client_103.py"), handle.name],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    Path(handle.name).unlink()
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_official_client_runs_every_flow(live: LiveEmulator) -> None:
    with WebhookSink() as sink:
        seen = run_client(live, {"reference": resolved(fixture_url(96, 64), live.base), "webhook": sink.url})
        received = [json.loads(hook.body) for hook in sink.received]
    subscribed = seen["subscribe"]
    assert subscribed["seed"] == 7
    assert subscribed["images"][0]["width"] == 1024 and subscribed["images"][0]["url"].startswith("https://")
    assert seen["updates"][-1] == "Completed"
    assert seen["first_status"] in ("Queued", "InProgress", "Completed")
    edited = seen["result"]["images"][0]
    assert (edited["width"], edited["height"]) == (2048, 2048)  # the documented default image_size
    assert seen["fetched_again"] == seen["result"]
    assert [line["message"] for line in seen["completed_logs"]][-1] == "Image 1 of 1 ready"
    assert seen["run"]["images"][0]["url"].startswith("data:image/png;base64,")
    assert seen["cancelled_result"] in (None, {"status": 499, "message": "The request was cancelled by the client."})
    assert seen["invalid"]["status"] == 422 and seen["invalid"]["detail"][0]["loc"] == ["body", "num_images"]
    hook = next(body for body in received if body["request_id"] == seen["hooked"])
    assert hook["status"] == "OK" and hook["error"] is None and hook["payload"]["images"]
    routes = {entry.route for entry in live.runtime.journal.entries(surface="fal")}
    assert {
        "POST /queue/{app_id}",
        "GET /queue/{owner}/{alias}/requests/{request_id}/status",
        "GET /queue/{owner}/{alias}/requests/{request_id}",
        "PUT /queue/{owner}/{alias}/requests/{request_id}/cancel",
        "POST /run/{app_id}",
    } <= routes
