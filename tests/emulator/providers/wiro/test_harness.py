"""The harness counts Wiro's leniencies against a client: a reused nonce is refused by default, and an emulator
that allows it leaves a journal warning that fails `wire`."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from conformance.adapters import AdapterSpec
from conformance.events import CaseResult, RunFinished
from conformance.handle import InProcess
from conformance.runner import RunConfig, run

# Builds its signed headers once, as a client that caches them would: every request reuses one nonce.
CLIENT = """
import hashlib, hmac, json, sys, time
import httpx

NONCE = str(int(time.time()))


def wiro(http, message):
    key, secret = message["credentials"]["api_key"], message["credentials"]["secret"]
    signature = hmac.new(key.encode(), (secret + NONCE).encode(), hashlib.sha256).hexdigest()
    headers = {"x-api-key": key, "x-nonce": NONCE, "x-signature": signature}
    base = message["base_url"]
    created = http.post(f"{base}/Run/bytedance/seedream-v4", json=message["body"], headers=headers)
    if created.status_code == 401:
        return {"failure": {"kind": "auth", "message": created.text}}
    task_id = created.json()["taskid"]
    deadline = time.monotonic() + message["timeout"]
    while time.monotonic() < deadline:
        reply = http.post(f"{base}/Task/Detail", json={"taskid": task_id}, headers=headers)
        if reply.status_code == 401:
            return {"failure": {"kind": "auth", "message": reply.text}}
        task = reply.json()["tasklist"][0]
        if task["status"] == "task_postprocess_end":
            return {"images": [{"url": output["url"]} for output in task["outputs"]]}
        time.sleep(0.2)
    return {"failure": {"kind": "timeout", "message": "gave up"}}


print(json.dumps({"ready": True, "name": "one nonce", "capabilities": []}), flush=True)
with httpx.Client(timeout=30) as http:
    for line in sys.stdin:
        message = json.loads(line)
        print(json.dumps({"id": message["id"], **wiro(http, message)}), flush=True)
"""


async def verdict(tmp_path: Path, emulator_url: str | None = None) -> CaseResult:
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    adapter = AdapterSpec.parse(f"subprocess:{shlex.join([sys.executable, str(script)])}")
    config = RunConfig("wiro", adapter, examples=0, emulator_url=emulator_url, only=["wire/valid-001"])
    async for event in run(config):
        if isinstance(event, RunFinished):
            (result,) = event.results
            return result
    raise AssertionError("the run did not finish")


async def test_a_client_that_reuses_its_nonce_is_refused_and_not_conformant(tmp_path: Path) -> None:
    result = await verdict(tmp_path)
    assert result.status == "failed" and "the provider refused the credentials (HTTP 401)" in result.message


async def test_when_the_emulator_allows_reuse_the_warning_still_fails_the_client(tmp_path: Path) -> None:
    remote = InProcess.start(timing="fast", seed=0, wiro_reject_reused_nonce=False)
    try:
        result = await verdict(tmp_path, remote.base)
    finally:
        remote.close()
    assert result.status == "failed", result
    assert "served only because the emulator is lenient: x-nonce" in result.message
    assert "replay protection" in result.message
