"""The official `replicate` npm client (1.4.0) against the emulator, changed only in its base URL."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import npm
from emulator import read_metadata
from emulator.core.clock import ManualClock
from tests.sdk.npm import modules_for, run_node
from tests.sdk.replicate_live import ReplicateLive

pytestmark = pytest.mark.sdk
SCRIPT = "replicate_js.js"
MODEL = "bytedance/seedream-4"
CREATE = "POST /v1/models/{owner}/{name}/predictions"
POLL = "GET /v1/predictions/{id}"


@pytest.fixture(scope="module")
def modules() -> Path:
    return modules_for("replicate-1.4.0", npm.REPLICATE_JS)


@pytest.fixture(scope="module")
def live() -> Iterator[ReplicateLive]:
    with ReplicateLive(timing="instant") as server:
        yield server


def run_case(modules: Path, server: ReplicateLive, case: str, timeout_ms: int = 0, **input_: Any) -> dict[str, Any]:
    server.runtime.journal.reset()
    payload = {"base_url": f"{server.base}/v1", "case": case, "input": input_, "timeout_ms": timeout_ms}
    return run_node(modules, SCRIPT, payload)


def test_run_gives_file_outputs_whose_blobs_are_the_images(modules: Path, live: ReplicateLive) -> None:
    result = run_case(modules, live, "run", prompt="a red fox in fresh snow", size="1K", aspect_ratio="16:9")
    [output] = result["outputs"]
    assert output["is_file_output"] and output["url"].startswith("data:image/jpeg;base64,")
    assert output["type"] == "image/jpeg"
    meta = read_metadata(base64.b64decode(output["base64"]))
    assert (meta["width"], meta["height"], meta["model"]) == (1312, 736, MODEL)
    assert live.routes() == [CREATE], "run() sends Prefer: wait, and a finished sync reply needs no polling"


def test_create_then_wait_polls_to_the_end(modules: Path) -> None:
    with ReplicateLive(timing="fast") as server:
        result = run_case(modules, server, "create_wait", prompt="polled", size="2K")
        assert result["created"] == "starting" and result["status"] == "succeeded"
        assert set(result["seen"]) <= {"starting", "processing"}
        routes = server.routes()
    assert routes[0] == CREATE and set(routes[1:]) == {POLL} and len(routes) >= 2
    # Polled outputs are file URLs, as in production; over plain HTTP the client hands them over as strings.
    [url] = result["output"]
    assert url.startswith(f"{server.base}/files/")


def test_422_surfaces_as_api_error_with_the_response(modules: Path, live: ReplicateLive) -> None:
    result = run_case(modules, live, "refused", prompt="too big", size="9K")
    assert (result["name"], result["status"], result["is_error"]) == ("ApiError", 422, True)
    assert "input.size" in result["message"]
    assert live.routes() == [CREATE], "a 422 is not retried"


def test_429_on_create_is_retried_at_once_ignoring_retry_after(modules: Path, live: ReplicateLive) -> None:
    # replicate 1.4.0 retries a 429 five times, but reads Retry-After only from an ApiError its fetch never
    # throws, and sleeps `interval * 2 ** NaN` ms between tries (docs/sdk-compatibility.md).
    capacity, live.runtime.jobs.max_active = live.runtime.jobs.max_active, 0
    try:
        started = time.monotonic()
        result = run_case(modules, live, "refused", prompt="too many")
        elapsed = time.monotonic() - started
    finally:
        live.runtime.jobs.max_active = capacity
    assert (result["name"], result["status"]) == ("ApiError", 429)
    assert live.routes() == [CREATE] * 6
    assert elapsed < 5, "six tries after a Retry-After of several seconds would take longer"


def test_received_webhook_validates_and_a_tampered_one_does_not(modules: Path, live: ReplicateLive) -> None:
    result = run_case(modules, live, "webhook", prompt="hooked", size="1K")
    assert result["secret_prefix"] == "whsec"
    assert result["delivered"]["id"] == result["id"] and result["delivered"]["status"] == "succeeded"
    assert (result["genuine"], result["tampered"], result["wrong_secret"]) == (True, False, False)


def test_cancel_a_queued_prediction(modules: Path) -> None:
    with ReplicateLive(timing="realistic", clock=ManualClock()) as server:
        result = run_case(modules, server, "cancel", prompt="cancel me")
    assert (result["created"], result["canceled"], result["waited"]) == ("starting", "canceled", "canceled")
    assert result["output"] is None


def test_polled_outputs_are_fetchable_files(modules: Path) -> None:
    with ReplicateLive(timing="fast") as server:
        result = run_case(modules, server, "create_wait", prompt="fetch me", size="1K")
        [url] = result["output"]
        meta = read_metadata(httpx.get(url).content)
    assert (meta["width"], meta["height"]) == (1024, 1024)


def test_a_signal_bounds_run_only_in_poll_mode(modules: Path) -> None:
    # run() does not pass its signal to the create, so with the default `Prefer: wait` the server holds the call
    # for up to 60 s whatever the signal says; in poll mode the loop sees the signal, cancels the prediction and
    # resolves with null (docs/sdk-compatibility.md).
    with ReplicateLive(timing="realistic", clock=ManualClock()) as server:
        result = run_case(modules, server, "bounded_run", timeout_ms=1000, prompt="never finishes")
        [job] = server.run(lambda: [job.state.value for job in server.runtime.jobs])
    assert (result["output"], result["aborted"]) == (None, True)
    assert 1000 <= result["elapsed_ms"] < 5000
    assert job == "canceled"
