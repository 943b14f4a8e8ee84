"""Ark and fal were added after the recording machinery; they are recorded, replayed and drift-checked through their
`recording.json` alone. fal puts its webhook URL in the query string and signs in `Authorization: Key id:secret`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from conformance.drift import run_drift
from conformance.server import EmulatorServer
from emulator.recording.cassette import Cassette
from emulator.recording.proxy import Recording, parse_upstreams, record_app

from .traffic import DEADLINE, POLL, Hooks, Served

FAL_KEY = "fal-key-id-0123:fal-key-secret-456789abcdef"
ARK_KEY = "ark-live-key-abcdef0123456789"
APP = "fal-ai/bytedance/seedream/v4/text-to-image"


def traffic(base: str, hooks: str) -> dict[str, Any]:
    fal = {"Authorization": f"Key {FAL_KEY}"}
    with httpx.Client(base_url=base, timeout=30) as http:
        ark = http.post(
            "/ark/api/v3/images/generations",
            headers={"Authorization": f"Bearer {ARK_KEY}"},
            json={"model": "seedream-4-0-250828", "prompt": "a paper boat", "size": "1K"},
        )
        submitted = http.post(
            f"/fal/queue/{APP}", params={"fal_webhook": f"{hooks}/fal"}, headers=fal, json={"prompt": "a kite"}
        )
        request_id = submitted.json()["request_id"]
        deadline = time.monotonic() + DEADLINE
        while True:
            status = http.get(f"/fal/queue/fal-ai/bytedance/requests/{request_id}/status", headers=fal)
            if status.json().get("status") == "COMPLETED" or time.monotonic() > deadline:
                break
            time.sleep(POLL)
        result = http.get(f"/fal/queue/fal-ai/bytedance/requests/{request_id}", headers=fal)
    return {"ark": ark.json(), "submitted": submitted.json(), "status": status.json(), "result": result.json()}


def test_ark_and_fal_record_replay_and_drift_through_their_contract_data(tmp_path: Path) -> None:
    path, hooks = tmp_path / "new.jsonl", Hooks()
    with EmulatorServer(timing="fast") as upstream, Served(hooks.app()) as receiver:
        recording = Recording(path, parse_upstreams([f"{name}={upstream.base}/{name}" for name in ("ark", "fal")]))
        with Served(record_app(recording)) as proxy:
            recorded = traffic(proxy.base, receiver.base)
            delivered = json.loads(hooks.wait("/fal")[0]["body"])
    assert recorded["status"]["status"] == "COMPLETED" and delivered["status"] == "OK"
    text = path.read_text(encoding="utf-8")
    assert FAL_KEY not in text and FAL_KEY.split(":")[1] not in text and ARK_KEY not in text
    cassette = Cassette.read(path)
    submit = next(
        e
        for e in cassette.exchanges
        if e["kind"] == "http" and e["request"]["method"] == "POST" and "queue" in e["request"]["path"]
    )
    assert submit["request"]["headers"]["authorization"] == "Key [redacted]"
    assert f"fal_webhook={receiver.base}" in httpx.URL("?" + submit["request"]["query"]).query.decode().replace(
        "%3A", ":"
    ).replace("%2F", "/")
    callback = next(e for e in cassette.exchanges if e["kind"] == "callback")
    assert callback["for"] == submit["seq"] and callback["field"] == "fal_webhook"

    replay_hooks = Hooks()
    with EmulatorServer(timing="fast", replay=str(path)) as server, Served(replay_hooks.app()) as receiver:
        replayed = traffic(server.base, receiver.base)
        assert httpx.get(f"{server.base}/_emulator/replay").json()["unmatched"] == []
        assert json.loads(replay_hooks.wait("/fal")[0]["body"])["status"] == "OK"
    assert replayed["result"] == recorded["result"] and replayed["ark"] == recorded["ark"]

    report = run_drift(str(path), timing="fast")
    assert not report.drifted, [(o.seq, o.label, [f.text() for f in o.findings]) for o in report.outcomes if o.findings]
    assert {o.surface for o in report.outcomes if o.label.startswith("callback")} == {"fal"}
