"""The harness judges every case under production rules: what the real provider refuses fails the client here too."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from conformance.adapters import AdapterSpec
from conformance.events import CaseResult, RunFinished
from conformance.handle import InProcess
from conformance.runner import RunConfig, run

CLIENT = """
import json, sys, time
import httpx

EXTRA = json.loads(sys.argv[1])
KEY = EXTRA.pop("__key", None)  # a key of the client's own instead of the one it was given


def evolink(http, message):
    base, key = message["base_url"], KEY or message["credentials"]["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    created = http.post(f"{base}/v1/images/generations", json={**message["body"], **EXTRA}, headers=headers)
    if created.status_code >= 400:
        return {"failure": {"kind": "invalid_request", "message": created.text}}
    task_id = created.json()["id"]
    deadline = time.monotonic() + message["timeout"]
    while time.monotonic() < deadline:
        task = http.get(f"{base}/v1/tasks/{task_id}", headers=headers).json()
        if task["status"] == "completed":
            return {"images": [{"url": url} for url in task["results"]]}
        if task["status"] in ("failed", "cancelled"):
            return {"failure": {"kind": "generation_failed", "message": task["status"]}}
        time.sleep(0.2)
    return {"failure": {"kind": "timeout", "message": "gave up"}}


def replicate(http, message):
    base, key = message["base_url"], KEY or message["credentials"]["api_key"]
    headers = {"Authorization": f"Bearer {key}"}
    body = {**message["body"], **EXTRA}
    created = http.post(f"{base}/v1/models/bytedance/seedream-4/predictions", json=body, headers=headers)
    if created.status_code >= 400:
        return {"failure": {"kind": "invalid_request", "message": created.text}}
    prediction = created.json()
    deadline = time.monotonic() + message["timeout"]
    while time.monotonic() < deadline:
        current = http.get(f"{base}/v1/predictions/{prediction['id']}", headers=headers).json()
        if current["status"] == "succeeded":
            return {"images": [{"url": url} for url in current["output"]]}
        if current["status"] in ("failed", "canceled"):
            return {"failure": {"kind": "generation_failed", "message": str(current["error"])}}
        time.sleep(0.2)
    return {"failure": {"kind": "timeout", "message": "gave up"}}


print(json.dumps({"ready": True, "name": "extra fields", "capabilities": []}), flush=True)
with httpx.Client(timeout=30) as http:
    for line in sys.stdin:
        message = json.loads(line)
        reply = {"evolink": evolink, "replicate": replicate}[message["provider"]](http, message)
        print(json.dumps({"id": message["id"], **reply}), flush=True)
"""


async def verdict(tmp_path: Path, provider: str, extra: dict[str, object], case: str) -> CaseResult:
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    import json

    command = shlex.join([sys.executable, str(script), json.dumps(extra)])
    adapter = AdapterSpec.parse(f"subprocess:{command}")
    async for event in run(RunConfig(provider, adapter, examples=0, only=[case])):
        if isinstance(event, RunFinished):
            (result,) = event.results
            return result
    raise AssertionError("the run did not finish")


@pytest.mark.parametrize(
    ("provider", "extra"),
    [
        ("evolink", {"callback_url": "http://hooks.example.com/seedream"}),
        ("evolink", {"callback_url": "https://127.1/hook"}),
        ("replicate", {"webhook": "http://127.0.0.1:9/own-receiver"}),
        ("replicate", {"webhook": "https://[::ffff:127.0.0.1]/hook"}),
    ],
    ids=["evolink-http", "evolink-loopback-alias", "replicate-loopback", "replicate-mapped-loopback"],
)
async def test_a_callback_production_refuses_fails_the_client(
    tmp_path: Path, provider: str, extra: dict[str, object]
) -> None:
    result = await verdict(tmp_path, provider, extra, "wire/valid-001")
    assert result.status == "failed", result.message
    assert "callback" in result.message.lower() or "webhook" in result.message.lower(), result.message


async def test_the_same_client_without_the_callback_passes(tmp_path: Path) -> None:
    for provider in ("evolink", "replicate"):
        result = await verdict(tmp_path, provider, {}, "wire/valid-001")
        assert result.status == "passed", (provider, result.message)


async def test_a_journal_warning_raised_by_the_client_fails_wire(tmp_path: Path) -> None:
    result = await verdict(
        tmp_path, "replicate", {"webhook_completed": "https://hooks.example.com/done"}, "wire/valid-001"
    )
    assert result.status == "failed" and "served only because the emulator is lenient" in result.message, result.message
    assert "webhook_completed" in result.message


async def test_a_client_that_sends_a_key_of_its_own_fails(tmp_path: Path) -> None:
    """Without --api-key the emulator takes any key; the harness takes only the one it gave the client."""
    result = await verdict(tmp_path, "evolink", {"__key": "a-stale-key"}, "wire/valid-001")
    assert result.status == "failed" and "refused the credentials (HTTP 401)" in result.message, result.message


async def test_a_lent_emulator_gets_its_own_rules_back_after_the_run(tmp_path: Path) -> None:
    handle = InProcess.start(timing="fast", seed=3)
    try:
        before = handle.set_policy()
        script = tmp_path / "client.py"
        script.write_text(CLIENT)
        adapter = AdapterSpec.parse(f"subprocess:{shlex.join([sys.executable, str(script), '{}'])}")
        async for _ in run(RunConfig("evolink", adapter, examples=0, only=["wire/valid-001"]), emulator=handle):
            assert handle.set_policy()["strict"] is True
        assert handle.set_policy() == before
    finally:
        handle.close()
