"""The cassette's guarantees in isolation: redaction holds for any body, images never land in a cassette, matching
ignores what changes on every call, bad cassettes and bad arguments are usage errors, and replay never answers a
hostile request with a 500."""

from __future__ import annotations

import base64
import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from conformance import cli as conformance_cli
from contracts.cassette import recordable, rules
from contracts.surfaces import SURFACES
from emulator import Settings, create_app
from emulator import cli as emulator_cli
from emulator.recording.cassette import (
    REDACTED,
    TOO_DEEP,
    Cassette,
    CassetteError,
    Redactor,
    Writer,
    body_bytes,
    encode_body,
    normalised,
    summarise_image,
)
from emulator.recording.proxy import UpstreamError, parse_upstreams
from emulator.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]
RUNWARE, WIRO, REPLICATE = rules("runware"), rules("wiro"), rules("replicate")
SECRETS = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=6, max_size=40)
# A secret with a quote or backslash next to non-ASCII text is written half-escaped; the scrub must still find it.
ESCAPED = st.builds(
    lambda head, tail: head + '"\\' + tail,
    st.text("éü✓", min_size=3, max_size=5),
    st.text("ab", min_size=2, max_size=4),
)
PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


def write_line(redactor: Redactor, record: dict[str, Any]) -> str:
    out = io.StringIO()
    Writer(out, redactor).write(record)
    return out.getvalue()


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(document=PLAIN, key=SECRETS | ESCAPED, token=SECRETS, depth=st.integers(0, 4))
def test_no_credential_or_token_survives_whatever_the_body_looks_like(
    document: Any, key: str, token: str, depth: int
) -> None:
    def body(key: str, token: str) -> bytes:
        nested: Any = {"apiKey": key, "socketaccesstoken": token, "payload": document}
        for _ in range(depth):
            nested = [{"wrapper": nested}]
        return json.dumps(nested).encode()

    def line(redactor: Redactor, key: str, token: str) -> str:
        runware = encode_body(body(key, token), "application/json", RUNWARE, redactor)
        wiro = encode_body(body(key, token), "application/json", WIRO, redactor)
        header = redactor.headers([(b"authorization", f"Bearer {key}".encode())], RUNWARE.credential_headers)
        # The key also turns up where no rule names it: echoed inside an error message.
        echo = {"json": {"error": f"invalid key {key}"}}
        return write_line(redactor, {"runware": runware, "wiro": wiro, "header": header, "echo": echo})

    # A "secret" that is part of the line's own text ("[redac", '{"json') cannot be told from it.
    skeleton = line(Redactor(), "[redacted]", "[token:1]")
    assume(key not in skeleton and token not in skeleton and json.dumps(key)[1:-1] not in skeleton)
    written = line(Redactor(), key, token)
    assert key not in written and json.dumps(key)[1:-1] not in written
    assert json.dumps(key, ensure_ascii=False)[1:-1] not in written
    assert token not in written and "[token:1]" in written


def test_a_token_gets_the_same_pseudonym_wherever_it_appears() -> None:
    redactor = Redactor()
    reply = encode_body(b'{"socketaccesstoken": "tok-123456"}', "application/json", WIRO, redactor)
    frame = encode_body(b'{"type": "task_info", "tasktoken": "tok-123456"}', None, WIRO, redactor)
    assert reply["json"]["socketaccesstoken"] == frame["json"]["tasktoken"] == "[token:1]"


def test_signature_headers_and_the_webhook_secret_are_redacted() -> None:
    redactor = Redactor()
    wiro = redactor.headers(
        [("x-api-key", "k" * 12), ("x-nonce", "1700000000123"), ("x-signature", "ab" * 32), ("accept", "*/*")],
        WIRO.credential_headers,
    )
    assert wiro == {"x-api-key": REDACTED, "x-nonce": REDACTED, "x-signature": REDACTED, "accept": "*/*"}
    hook = redactor.headers([("webhook-signature", "v1,abc=")], REPLICATE.callback_credential_headers)
    assert hook == {"webhook-signature": REDACTED}
    secret = encode_body(b'{"key": "whsec_0123456789"}', "application/json", REPLICATE, redactor)
    assert secret == {"json": {"key": REDACTED}}


PLAIN_KEYS = SECRETS.filter(lambda key: not any(c.isspace() or c in '"\\&' for c in key))


@given(key=PLAIN_KEYS, junk=st.text(max_size=20))
def test_a_malformed_body_keeps_no_credential(key: str, junk: str) -> None:
    body = '[{"taskType": "authentication", "apiKey": "' + key + '"}, ' + junk
    assume(body.count(key) == 1 and key not in "apiKey=x=1")
    redactor = Redactor()
    recorded = encode_body(body.encode(), "application/json", RUNWARE, redactor)
    form = encode_body(f"apiKey={key}&x=1".encode(), "text/plain", RUNWARE, redactor)
    line = write_line(Redactor(), {"a": recorded, "b": form})  # a fresh redactor: the first pass alone must hold
    assert key not in line


def test_json_too_deep_to_redact_is_never_written() -> None:
    deep = "[" * 5000 + '{"apiKey": "sk-deep-secret"}' + "]" * 5000
    recorded = encode_body(deep.encode(), "application/json", RUNWARE, Redactor())
    assert recorded == {"text": TOO_DEEP}


@given(width=st.integers(1, 300), height=st.integers(1, 300))
@settings(max_examples=15)
def test_images_become_their_summary_wherever_they_are(width: int, height: int) -> None:
    data = png(width, height)
    summary = {"size": len(data), "format": "png", "width": width, "height": height}
    assert encode_body(data, "application/octet-stream", RUNWARE, Redactor()) == {"image": summary}
    inline = json.dumps(
        {"a": "data:image/png;base64," + base64.b64encode(data).decode(), "b": base64.b64encode(data).decode()}
    )
    recorded = encode_body(inline.encode(), "application/json", RUNWARE, Redactor())
    assert recorded["json"]["a"] == {"$image": summary, "$encoding": "data-uri"}
    if len(base64.b64encode(data)) >= 64:
        assert recorded["json"]["b"] == {"$image": summary, "$encoding": "base64"}


def test_a_replayed_image_has_the_recorded_format_dimensions_and_size() -> None:
    content, media = body_bytes({"image": {"size": 50_000, "format": "png", "width": 120, "height": 80}}, "t")
    summary = summarise_image(content)
    assert media == "image/png" and summary is not None
    assert (summary.format, summary.width, summary.height, summary.size) == ("png", 120, 80, 50_000)


def test_matching_ignores_volatile_values_tokens_and_callback_urls() -> None:
    one = {"json": [{"taskUUID": "a", "webhookURL": "http://x/1", "positivePrompt": "p"}]}
    two = {"json": [{"taskUUID": "b", "webhookURL": "http://y/2", "positivePrompt": "p"}]}
    other = {"json": [{"taskUUID": "b", "webhookURL": "http://y/2", "positivePrompt": "q"}]}
    assert normalised(one, RUNWARE) == normalised(two, RUNWARE) != normalised(other, RUNWARE)


def test_every_recording_rule_names_a_field_its_contract_has() -> None:
    """recording.json is data like the schemas beside it; a typo there would silently leak or mismatch."""

    def properties(node: Any, found: set[str]) -> set[str]:
        if isinstance(node, dict):
            if isinstance(node.get("name"), str) and node.get("in") in ("query", "header", "path"):
                found.add(node["name"])  # a route parameter in api.json (fal's ?fal_webhook=)
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    found.update(value)
                properties(value, found)
        elif isinstance(node, list):
            for item in node:
                properties(item, found)
        return found

    assert recordable() and set(recordable()) <= set(SURFACES)
    for surface in recordable():
        known: set[str] = set()
        for path in (ROOT / "contracts" / surface).glob("*.json"):
            if path.name != "recording.json":
                properties(json.loads(path.read_text(encoding="utf-8")), known)
        rule = rules(surface)
        named = (
            rule.credential_fields
            | rule.token_fields
            | rule.callback_fields
            | rule.volatile_fields
            | rule.identity_fields
            | rule.enum_fields
            | rule.state_fields
        )
        assert named <= known, (surface, sorted(named - known))
        assert all(name == name.lower() for name in rule.credential_headers | frozenset(rule.headers))


def test_the_machinery_names_no_surface() -> None:
    """A new surface is recorded, replayed and drift-checked through its contract data alone."""
    sources = [*(ROOT / "emulator" / "recording").glob("*.py"), ROOT / "conformance" / "drift.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8").lower()
        for surface in SURFACES:
            assert not re.search(rf"\b{surface}\b", text), f"{path.name} names {surface}"


def test_upstreams_are_parsed_with_the_providers_real_urls_as_defaults() -> None:
    parsed = parse_upstreams(["runware", "evolink=http://127.0.0.1:9/evolink/", "wiro.ws=ws://127.0.0.1:9/w"])
    assert (
        parsed["runware"].http == "https://api.runware.ai" and parsed["runware"].websocket == "wss://ws-api.runware.ai"
    )
    assert parsed["evolink"].http == "http://127.0.0.1:9/evolink"
    assert parsed["wiro"].http == "https://api.wiro.ai" and parsed["wiro"].websocket == "ws://127.0.0.1:9/w"
    assert parsed["evolink"].websocket is None  # an emulator upstream: its sockets are on the same host
    with pytest.raises(UpstreamError, match="SURFACE.ws=URL"):
        parse_upstreams(["runware.ws"])
    with pytest.raises(UpstreamError, match="recording.json"):
        parse_upstreams(["nosuchsurface=http://127.0.0.1:9"])
    with pytest.raises(UpstreamError, match="must start with"):
        parse_upstreams(["evolink=ftp://example.com"])


def test_bad_arguments_and_bad_cassettes_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert emulator_cli.main(["record", "--upstream", "nosuchsurface=http://127.0.0.1:9"]) == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"format": "something-else"}\n', encoding="utf-8")
    assert conformance_cli.main(["drift", str(broken)]) == 2
    assert conformance_cli.main(["drift", str(tmp_path / "missing.jsonl")]) == 2
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"format": "seedream-cassette", "version": 99}\n', encoding="utf-8")
    with pytest.raises(CassetteError, match="version 99"):
        Cassette.read(newer)
    with pytest.raises(SettingsError, match="not a seedream-cassette"):
        create_app(Settings(replay=str(broken)))
    assert "seedream-cassette" in capsys.readouterr().err


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "one.jsonl"
    header = {"format": "seedream-cassette", "version": 1, "created": "2026-01-01T00:00:00+00:00", "surfaces": {}}
    exchange = {
        "kind": "http",
        "seq": 1,
        "surface": "evolink",
        "t": 0.0,
        "request": {
            "method": "GET",
            "path": "/v1/tasks/task-unified-1-abcdefgh",
            "query": "",
            "headers": {"authorization": "Bearer [redacted]"},
            "body": None,
        },
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": {"json": {"id": "x", "status": "completed"}},
        },
    }
    path.write_text("\n".join(json.dumps(line) for line in (header, exchange)) + "\n", encoding="utf-8")
    return path


async def test_replay_in_process_answers_recorded_and_passes_the_rest(cassette: Path) -> None:
    app = create_app(Settings(replay=str(cassette), seed=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        hit = await client.get("/evolink/v1/tasks/task-unified-1-abcdefgh", headers={"Authorization": "Bearer k"})
        assert hit.json() == {"id": "x", "status": "completed"}
        again = await client.get("/evolink/v1/tasks/task-unified-1-abcdefgh", headers={"Authorization": "Bearer k"})
        assert again.json() == hit.json()  # the last recorded reply answers again
        keyless = await client.get("/evolink/v1/tasks/task-unified-1-abcdefgh")
        assert keyless.status_code == 401  # no key: not the recorded request; the emulator refuses it as EvoLink would
        miss = await client.get("/evolink/v1/tasks/task-unified-2-abcdefgh", headers={"Authorization": "Bearer k"})
        assert miss.status_code == 404 and "error" in miss.json()  # the emulator's own EvoLink not-found
        report = (await client.get("/_emulator/replay")).json()
    assert report["served"] == 2 and [u["path"] for u in report["unmatched"]] == [
        "/v1/tasks/task-unified-1-abcdefgh",
        "/v1/tasks/task-unified-2-abcdefgh",
    ]


def test_a_cassette_of_surfaces_unknown_here_is_not_called_drift_free(cassette: Path, tmp_path: Path) -> None:
    lines = cassette.read_text(encoding="utf-8").replace('"surface": "evolink"', '"surface": "nosuchsurface"')
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text(lines, encoding="utf-8")
    assert conformance_cli.main(["drift", str(unknown), "--timing", "instant"]) == 2


async def test_no_replay_endpoint_without_a_cassette() -> None:
    app = create_app(Settings(seed=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        assert (await client.get("/_emulator/replay")).status_code == 404


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300) | PLAIN.map(lambda doc: json.dumps(doc).encode()),
    ctype=st.sampled_from(
        [
            "application/json",
            "multipart/form-data; boundary=x",
            "application/x-www-form-urlencoded",
            "image/png",
            "text/plain",
            "",
        ]
    ),
)
async def test_replay_never_answers_a_hostile_request_with_a_server_error(
    cassette: Path, body: bytes, ctype: str
) -> None:
    app = create_app(Settings(replay=str(cassette), seed=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        for path in ("/evolink/v1/images/generations", "/runware/v1", "/wiro/v1/Task/Detail", "/replicate/v1/files"):
            reply = await client.post(path, content=body, headers={"content-type": ctype, "Authorization": "Bearer k"})
            assert reply.status_code < 500, (path, reply.text)


def test_the_record_command_writes_a_cassette_a_client_can_use(tmp_path: Path) -> None:
    """`seedream-emulator record` as a user starts it: a process in front of an upstream, stopped with Ctrl-C."""
    from conformance.server import EmulatorServer, free_port

    cassette_path, port = tmp_path / "cli.jsonl", free_port()
    with EmulatorServer(timing="instant") as upstream:
        command = [sys.executable, "-m", "emulator", "record", "--port", str(port), "--cassette", str(cassette_path)]
        command += ["--upstream", f"evolink={upstream.base}/evolink", "--log-level", "warning"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/_record/health", timeout=1).json()
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline and process.poll() is None, (
                        process.stdout and process.stdout.read()
                    )
                    time.sleep(0.1)
            assert health["status"] == "recording" and health["exchanges"] == 0
            reply = httpx.post(
                f"http://127.0.0.1:{port}/evolink/v1/images/generations",
                headers={"Authorization": "Bearer sk-cli-secret-123456"},
                json={"model": "doubao-seedream-4.0", "prompt": "a kite"},
            )
            assert reply.status_code == 200 and reply.json()["status"] == "pending"
            missing = httpx.get(f"http://127.0.0.1:{port}/runware/v1")
            assert missing.status_code == 404 and "--upstream" in missing.json()["message"]
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    cassette = Cassette.read(cassette_path)
    assert [e["request"]["path"] for e in cassette.exchanges] == ["/v1/images/generations"]
    assert "sk-cli-secret-123456" not in cassette_path.read_text(encoding="utf-8")
    assert f"Recording to {cassette_path}" in output
