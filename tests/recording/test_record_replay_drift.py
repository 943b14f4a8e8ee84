"""Record -> replay -> drift end to end, offline: the "real provider" is a second emulator configured differently
(other error codes, keys and Wiro project, a fault injected through the control API, a field patched on the way
out), recorded through `seedream-emulator record`'s proxy by a client that holds real-looking keys."""

from __future__ import annotations

import base64
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from conformance import cli as conformance_cli
from conformance.server import EmulatorServer
from contracts.cassette import schema
from emulator.core.render import read_metadata
from emulator.recording.cassette import Cassette
from emulator.recording.proxy import Recording, parse_upstreams, record_app

from .traffic import Hooks, Keys, PatchedField, Seen, Served, drive

SURFACES = ("evolink", "runware", "wiro", "replicate")
REPLAY_UUIDS = [str(uuid.UUID(int=number, version=4)) for number in (1, 2, 3, 4)]
SECRET_FAULT = {
    "action": "error",
    "status": 503,
    "times": 1,
    "surface": "replicate",
    "route": "GET /v1/webhooks/default/secret",
}


@dataclass
class Recorded:
    path: Path
    text: str
    cassette: Cassette
    seen: Seen
    hooks: Hooks
    leaked: list[str]  # every secret the client or its receiver saw: keys, tokens, signatures, the webhook secret


def record(tmp: Path, keys: Keys, *, changed: bool) -> Recorded:
    """Drive the traffic through a recording proxy in front of an upstream emulator; `changed` makes the upstream
    differ from the emulator (string error codes, a patched EvoLink field, a fault on the webhook secret)."""
    settings: dict[str, Any] = {
        "timing": "fast",
        "api_keys": (keys.bearer, keys.runware),
        "wiro_projects": (f"{keys.wiro_key}:{keys.wiro_secret}",),
    }
    if changed:
        settings["evolink_error_codes"] = "string"
        settings["runware_webhook_envelope"] = "data"
    upstream = EmulatorServer(**settings)
    if changed:
        upstream.server.config.app = PatchedField(upstream.recorder)  # before start: uvicorn loads it then
    hooks = Hooks()
    path = tmp / ("changed.jsonl" if changed else "same.jsonl")
    with upstream, Served(hooks.app()) as receiver:
        secret = httpx.get(
            f"{upstream.base}/replicate/v1/webhooks/default/secret", headers={"Authorization": f"Bearer {keys.bearer}"}
        ).json()["key"]
        if changed:
            httpx.post(f"{upstream.base}/_emulator/faults", json=SECRET_FAULT).raise_for_status()
        recording = Recording(path, parse_upstreams([f"{name}={upstream.base}/{name}" for name in SURFACES]))
        with Served(record_app(recording)) as proxy:
            seen = drive(proxy.base, proxy.base.replace("http", "ws", 1), keys, receiver.base)
            for name in ("/evolink", "/replicate", "/runware"):
                hooks.wait(name)
    leaked = [*keys.all(), secret]
    leaked += [
        item["headers"]["webhook-signature"] for item in hooks.received if "webhook-signature" in item["headers"]
    ]
    leaked += [seen.replies["wiro.run"][1]["socketaccesstoken"]]
    text = path.read_text(encoding="utf-8")
    return Recorded(path, text, Cassette.read(path), seen, hooks, leaked)


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    return record(tmp_path_factory.mktemp("cassettes"), Keys(), changed=True)


def exchanges(recorded: Recorded, kind: str, surface: str | None = None) -> list[dict[str, Any]]:
    return [e for e in recorded.cassette.exchanges if e["kind"] == kind and surface in (None, e["surface"])]


def test_no_credential_token_or_signature_appears_anywhere_in_the_cassette(changed: Recorded) -> None:
    for secret in changed.leaked:
        assert secret and secret not in changed.text, f"{secret[:8]}… leaked into the cassette"
    for exchange in exchanges(changed, "http"):
        headers = exchange["request"]["headers"]
        for name in ("authorization", "x-api-key", "x-nonce", "x-signature"):
            assert headers.get(name, "[redacted]").endswith("[redacted]"), (name, headers[name])
    auth = [
        task
        for e in exchanges(changed, "http", "runware")
        for task in e["request"]["body"]["json"]
        if task["taskType"] == "authentication"
    ]
    assert auth and all(task["apiKey"] == "[redacted]" for task in auth)


def test_every_line_is_valid_against_the_cassette_schema(changed: Recorded) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    lines = [json.loads(line) for line in changed.text.splitlines()]
    for line in lines:
        validator.validate(line)
    assert lines[0]["format"] == "seedream-cassette" and lines[0]["version"] == 1
    assert {e["kind"] for e in changed.cassette.exchanges} == {"http", "websocket", "callback"}


def test_images_are_kept_as_size_format_and_dimensions_only(changed: Recorded) -> None:
    assert not re.search(r"data:image/[a-z]+;base64,", changed.text)
    run = next(e for e in exchanges(changed, "http", "wiro") if "form" in (e["request"]["body"] or {}))
    part = run["request"]["body"]["form"][0]
    assert part["image"]["format"] == "jpeg" and (part["image"]["width"], part["image"]["height"]) == (32, 32)
    upload = next(
        e for e in exchanges(changed, "http", "runware") if e["request"]["body"]["json"][1]["taskType"] == "imageUpload"
    )
    assert upload["request"]["body"]["json"][1]["image"] == {
        "$image": {
            "size": upload["request"]["body"]["json"][1]["image"]["$image"]["size"],
            "format": "png",
            "width": 64,
            "height": 48,
        },
        "$encoding": "data-uri",
    }
    inference = next(
        e
        for e in exchanges(changed, "http", "runware")
        if e["request"]["body"]["json"][1]["taskType"] == "imageInference"
    )
    assert inference["response"]["body"]["json"]["data"][0]["imageDataURI"]["$image"]["width"] == 1024


def test_callbacks_are_captured_tied_to_their_request_and_still_reach_the_client(changed: Recorded) -> None:
    callbacks = {e["surface"]: e for e in exchanges(changed, "callback")}
    assert set(callbacks) == {"evolink", "replicate", "runware"}
    for surface, field in (("evolink", "callback_url"), ("replicate", "webhook")):
        origin = next(e for e in changed.cassette.exchanges if e["seq"] == callbacks[surface]["for"])
        assert origin["request"]["body"]["json"][field].endswith(f"/{surface}")  # the client's URL, not the proxy's
        assert callbacks[surface]["field"] == field and callbacks[surface]["response"]["status"] == 200
    assert callbacks["replicate"]["request"]["headers"]["webhook-signature"] == "[redacted]"
    assert json.loads(changed.hooks.wait("/replicate")[0]["body"])["status"] == "succeeded"


def test_websocket_frames_are_captured_both_ways(changed: Recorded) -> None:
    sockets = {e["surface"]: e for e in exchanges(changed, "websocket")}
    assert set(sockets) == {"runware", "wiro"}
    runware = [frame["from"] for frame in sockets["runware"]["frames"]]
    assert runware == ["client", "server", "client", "server"]
    wiro = sockets["wiro"]["frames"]
    assert wiro[1]["body"]["json"]["tasktoken"].startswith("[token:")
    assert wiro[-1]["body"]["json"]["terminal"] is True


@pytest.fixture(scope="module")
def replaying(changed: Recorded) -> Iterator[tuple[EmulatorServer, Hooks, Seen, str]]:
    hooks = Hooks()
    with EmulatorServer(timing="fast", replay=str(changed.path)) as server, Served(hooks.app()) as receiver:
        seen = drive(
            server.base, server.ws_base, Keys(bearer="sk-other", runware="rw-other"), receiver.base, REPLAY_UUIDS
        )
        yield server, hooks, seen, receiver.base


def test_replay_answers_with_the_recorded_replies(
    changed: Recorded, replaying: tuple[EmulatorServer, Hooks, Seen, str]
) -> None:
    server, hooks, seen, _ = replaying
    for name in ("evolink.create", "evolink.poll", "evolink.bad", "replicate.create", "replicate.poll", "wiro.detail"):
        recorded = [e for e in exchanges(changed, "http") if e["response"]["status"] == seen.replies[name][0]]
        assert seen.replies[name][1] in [_restored(e["response"]["body"]) for e in recorded], name
    assert seen.replies["replicate.secret"] == (
        503,
        seen.replies["replicate.secret"][1],
    )  # the injected fault, replayed
    assert seen.replies["evolink.bad"][1]["error"]["code"] == "invalid_request"  # the upstream's string codes
    assert "eta" in seen.replies["evolink.poll"][1]
    report = httpx.get(f"{server.base}/_emulator/replay").json()
    assert report["unmatched"] == [] and report["served"] >= 20


def test_replay_puts_the_clients_own_task_ids_into_recorded_replies(
    replaying: tuple[EmulatorServer, Hooks, Seen, str],
) -> None:
    _, _, seen, _ = replaying
    assert seen.replies["runware.inference"][1]["data"][0]["taskUUID"] == REPLAY_UUIDS[0]
    assert seen.replies["runware.webhook"][1]["data"][0]["taskUUID"] == REPLAY_UUIDS[1]
    assert seen.replies["runware.upload"][1]["data"][0]["taskUUID"] == REPLAY_UUIDS[2]
    assert seen.frames["runware"][1]["data"][0]["taskUUID"] == REPLAY_UUIDS[3]  # over the WebSocket too


def test_replayed_images_are_evidence_placeholders_of_the_recorded_size(
    changed: Recorded, replaying: tuple[EmulatorServer, Hooks, Seen, str]
) -> None:
    _, _, seen, _ = replaying
    recorded = next(
        e["response"]["body"]["json"]["data"][0]["imageDataURI"]["$image"]
        for e in exchanges(changed, "http", "runware")
        if e["request"]["body"]["json"][1]["taskType"] == "imageInference"
    )
    uri = seen.replies["runware.inference"][1]["data"][0]["imageDataURI"]
    data = base64.b64decode(uri.split(",", 1)[1])
    metadata = read_metadata(data)
    assert (metadata["width"], metadata["height"], metadata["provider"]) == (1024, 1024, "cassette")
    assert len(data) == recorded["size"]


def test_replay_delivers_recorded_callbacks_to_the_url_the_client_names_now(
    replaying: tuple[EmulatorServer, Hooks, Seen, str],
) -> None:
    _, hooks, _, _ = replaying
    assert json.loads(hooks.wait("/replicate")[0]["body"])["status"] == "succeeded"
    assert json.loads(hooks.wait("/evolink")[0]["body"])["status"] == "completed"


def test_a_request_the_cassette_lacks_is_served_by_the_emulator_and_listed(
    replaying: tuple[EmulatorServer, Hooks, Seen, str],
) -> None:
    server, _, _, _ = replaying
    reply = httpx.post(
        f"{server.base}/evolink/v1/images/generations",
        headers={"Authorization": "Bearer sk-other"},
        json={"model": "doubao-seedream-4.0", "prompt": "never recorded"},
    )
    assert reply.status_code == 200 and reply.json()["status"] == "pending"  # the emulator's own answer
    unmatched = httpx.get(f"{server.base}/_emulator/replay").json()["unmatched"]
    assert [(u["surface"], u["method"], u["path"]) for u in unmatched] == [
        ("evolink", "POST", "/v1/images/generations")
    ]
    journal = httpx.get(f"{server.base}/_emulator/journal").json()["entries"]
    assert any("not in the cassette" in note for entry in journal for note in entry["notes"])


def test_drift_finds_the_patched_field_the_error_codes_the_fault_and_the_webhook(
    changed: Recorded, tmp_path: Path
) -> None:
    junit, html, findings = tmp_path / "drift.xml", tmp_path / "drift.html", tmp_path / "drift.json"
    arguments = ["drift", str(changed.path), "--timing", "fast", "--junit", str(junit), "--html", str(html)]
    assert conformance_cli.main([*arguments, "--json", str(findings)]) == 1
    report = json.loads(findings.read_text(encoding="utf-8"))
    found = {(o["surface"], f["kind"], f["where"]) for o in report["outcomes"] for f in o["findings"]}
    assert ("evolink", "missing", "/eta") in found and ("evolink", "extra", "/progress") in found
    assert ("evolink", "type", "/error/code") in found and ("evolink", "enum", "/error/code") in found
    assert ("replicate", "status", "status") in found
    runware = {(kind, where) for surface, kind, where in found if surface == "runware"}
    assert ("missing", "/data") in runware and ("extra", "/taskUUID") in runware  # the webhook's envelope
    assert {surface for surface, _, _ in found} == {"evolink", "replicate", "runware"}, found  # nothing else
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert any("/eta" in (failure.get("message") or "") for failure in failures)
    assert "Not conformant" in html.read_text(encoding="utf-8")


def test_no_drift_when_the_provider_behaves_like_the_emulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = record(tmp_path, Keys(), changed=False)
    for secret in same.leaked:
        assert secret not in same.text
    findings = tmp_path / "drift.json"
    code = conformance_cli.main(["drift", str(same.path), "--timing", "fast", "--json", str(findings)])
    assert code == 0, capsys.readouterr().out
    outcomes = json.loads(findings.read_text(encoding="utf-8"))["outcomes"]
    compared = {o["surface"] for o in outcomes if o["request"].startswith("callback")}
    assert compared == {
        "evolink",
        "replicate",
        "runware",
    }  # the callbacks were delivered by the emulator and compared too
    assert {o["surface"] for o in outcomes if o["request"].startswith("WS")} == {"runware", "wiro"}
    assert "NO DRIFT" in capsys.readouterr().out


def _restored(body: Any) -> Any:
    return body.get("json") if isinstance(body, dict) else body
