"""The official npm @fal-ai/client, unchanged, against the emulator through its documented `proxyUrl` setting
(each request to the proxy, the real fal URL in `x-fal-target-url`): subscribe, submit, status, result, cancel,
a 422 and a webhook, with the client's own key and with none (the proxy's own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import npm
from conformance.fixtures import fixture_url, resolved
from emulator import read_metadata
from tests.sdk.live import LiveEmulator, WebhookSink
from tests.sdk.npm import modules_for, run_node

pytestmark = pytest.mark.sdk
SCRIPT = "fal_js.js"
APP = "fal-ai/bytedance/seedream/v4/text-to-image"


@pytest.fixture(scope="module")
def modules() -> Path:
    return modules_for("fal-ai-client-1.10.1", npm.FAL_JS)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator(provider="all", timing="fast", callback_exempt=("http://127.0.0.1",)) as server:
        yield server


def run_flows(modules: Path, live: LiveEmulator, credentials: str | None) -> tuple[dict[str, Any], list[Any]]:
    live.runtime.journal.reset()
    with WebhookSink() as sink:
        payload = {
            "proxy_url": f"{live.url('fal')}/proxy",
            "credentials": credentials,
            "reference": resolved(fixture_url(96, 64), live.base),
            "webhook": sink.url,
        }
        seen = run_node(modules, SCRIPT, payload, timeout=120)
        sink.wait_for(1, timeout=10)
        received = [json.loads(hook.body) for hook in sink.received]
    return seen, received


def test_every_flow_goes_through_the_proxy(modules: Path, live: LiveEmulator) -> None:
    seen, received = run_flows(modules, live, "emulator-id:emulator-secret")
    subscribed = seen["subscribe"]["data"]
    assert subscribed["seed"] == 7 and subscribed["images"][0]["width"] == 1024
    assert seen["updates"][-1] == "COMPLETED" and set(seen["updates"]) <= {"IN_QUEUE", "IN_PROGRESS", "COMPLETED"}
    submitted = seen["submitted"]
    assert submitted["status"] == "IN_QUEUE" and submitted["request_id"]
    assert seen["first_status"]["status"] in ("IN_QUEUE", "IN_PROGRESS", "COMPLETED")
    assert seen["completed"]["status"] == "COMPLETED"
    assert [line["message"] for line in seen["completed"]["logs"]][-1] == "Image 1 of 1 ready"
    edited = seen["result"]["data"]["images"][0]
    assert (edited["width"], edited["height"]) == (2048, 2048)  # the documented default image_size
    assert seen["result"]["requestId"] == submitted["request_id"]
    assert seen["cancelled"]["is_api_error"] and seen["cancelled"]["status"] == 499
    assert seen["cancelled"]["body"]["error_type"] == "client_cancelled"
    invalid = seen["invalid"]
    assert invalid["is_validation_error"] and invalid["status"] == 422
    assert invalid["body"]["detail"][0]["loc"] == ["body", "num_images"]
    hook = next(body for body in received if body["request_id"] == seen["hooked"])
    assert hook["status"] == "OK" and hook["error"] is None and hook["payload"]["images"]
    entries = live.runtime.journal.entries(surface="fal")
    # Every request reached the proxy, and was served as the queue operation its target URL names.
    assert {entry.path for entry in entries} == {"/fal/proxy"}
    assert all(any(note.startswith("proxied to queue") for note in entry.notes) for entry in entries)
    assert {entry.route for entry in entries} == {
        "POST /queue/{app_id}",
        "GET /queue/{owner}/{alias}/requests/{request_id}/status",
        "GET /queue/{owner}/{alias}/requests/{request_id}",
        "PUT /queue/{owner}/{alias}/requests/{request_id}/cancel",
    }


def test_the_images_behind_the_proxy_are_what_was_asked(modules: Path, live: LiveEmulator) -> None:
    seen, _ = run_flows(modules, live, "emulator-id:emulator-secret")
    subscribed = seen["subscribe"]
    metadata = read_metadata(httpx.get(subscribed["data"]["images"][0]["url"]).raise_for_status().content)
    assert (metadata["seed"], metadata["job_id"], metadata["model"]) == (7, subscribed["request_id"], "seedream-4.0")


def test_a_proxy_holds_the_key_so_the_client_may_have_none(modules: Path, live: LiveEmulator) -> None:
    seen, received = run_flows(modules, live, None)
    assert seen["result"]["data"]["images"] and seen["cancelled"]["status"] == 499
    assert any(body["request_id"] == seen["hooked"] for body in received)
    # Without Authorization the request is the proxy's own: none is refused, none names a client key.
    entries = live.runtime.journal.entries(surface="fal")
    assert {entry.api_key for entry in entries} == {None}
    assert not [entry for entry in entries if entry.status in (401, 403)]
