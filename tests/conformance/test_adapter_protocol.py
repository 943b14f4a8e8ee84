"""The JSON-lines protocol as a schema (contracts/adapter/protocol.json) and `seedream-conformance adapter-check`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.adapters import CANCEL, WEBHOOKS, GenerateRequest
from conformance.adapters.base import FAILURE_KINDS, WEBSOCKET
from conformance.cli import EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, main
from conformance.matrix import MATRIX_ADAPTERS
from contracts import adapter as protocol

FAKE = Path(__file__).with_name("fake_adapter.py")
DEFINITIONS = ["ready", "request", "generateReply", "startReply", "cancelReply", "verifyReply", "reply"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def test_the_schema_is_valid_and_agrees_with_the_harness() -> None:
    jsonschema.Draft202012Validator.check_schema(protocol.protocol())
    assert protocol.failure_kinds() == FAILURE_KINDS
    assert set(protocol.capabilities()) == {CANCEL, WEBHOOKS, WEBSOCKET}
    assert set(protocol.REPLIES.values()) <= set(protocol.protocol()["$defs"])


@pytest.mark.parametrize("op", list(protocol.REPLIES))
def test_the_requests_the_harness_sends_meet_the_schema(op: str) -> None:
    request = GenerateRequest("evolink", "http://127.0.0.1:1/evolink", {"api_key": "k"}, {"prompt": "p"}, 30.0)
    extra: dict[str, Any] = {"job_id": "j"} if op in ("cancel", "wait") else {}
    if op == "verify_webhook":
        extra = {"headers": {"webhook-id": "m"}, "body_base64": "e30="}
    # As SubprocessAdapter writes them: the id first, then the op, the request and the op's own fields.
    assert protocol.violations({"id": "1", "op": op, **request.as_json(), **extra}, "request") == []


images = st.lists(
    st.one_of(st.builds(lambda url: {"url": url}, st.text(min_size=1)), st.builds(lambda b: {"base64": b}, st.text()))
)
failures = st.fixed_dictionaries(
    {"kind": st.sampled_from(FAILURE_KINDS), "message": st.text()},
    optional={"code": st.one_of(st.none(), st.integers(), st.text()), "exception": st.one_of(st.none(), st.text())},
)


@given(
    st.one_of(st.builds(lambda i: {"images": i}, images), st.builds(lambda f: {"failure": f}, failures)),
    st.text(min_size=1),
)
def test_every_well_formed_generate_reply_passes(body: dict[str, Any], call_id: str) -> None:
    assert protocol.violations({"id": call_id, **body}, "generateReply") == []


@settings(max_examples=200)
@given(json_values, st.sampled_from(DEFINITIONS))
def test_malformed_messages_give_readable_problems_never_an_exception(message: Any, definition: str) -> None:
    found = protocol.violations(message, definition)
    assert all(isinstance(problem, str) and ": " in problem for problem in found)


def test_problems_name_the_offending_value() -> None:
    assert protocol.violations({"id": "1", "images": [{"imageURL": "x"}]}, "generateReply") == [
        "/images/0: an image needs exactly one of `url` (a string) or `base64` (a string)"
    ]
    assert protocol.violations({"id": "1"}, "generateReply") == [
        "the message: a generate or wait reply needs exactly one of `images` (a list) or `failure` (an object)"
    ]
    [kind] = protocol.violations({"id": "1", "failure": {"kind": "oops", "message": ""}}, "generateReply")
    assert kind.startswith('/failure/kind: "oops" is not one of')


def check(mode: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["adapter-check", "--provider", "evolink", "--", sys.executable, str(FAKE), mode])
    return code, capsys.readouterr().out


def test_a_good_adapter_passes_and_its_stray_lines_are_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check("good", capsys)
    assert code == EXIT_CONFORMANT, out
    assert "warn  ready: ignored a line that is not JSON" in out
    assert "ok    ready: name 'fake-good', capabilities: cancel" in out
    assert "ok    start: job job-1" in out and "ok    wait: failure invalid_request" in out
    # It refused the valid request: a warning (the run judges the client), not a protocol error.
    assert "warn  generate (a valid request): valid reply, but no images" in out
    assert "the adapter speaks the protocol" in out


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("bad-capability", 'ERROR ready: /capabilities/0: "cancel-jobs" is not one of'),
        ("wrong-id", "ERROR generate (a valid request): the reply carries id 'nope'; the request's id was '1'"),
        ("image-key", "ERROR generate (a valid request): /images/0: an image needs exactly one of `url`"),
        ("no-ready", "ERROR adapter: ready: the adapter exited (code 3)"),
    ],
)
def test_a_broken_adapter_fails_with_a_clear_error(mode: str, error: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(mode, capsys)
    assert code == EXIT_NOT_CONFORMANT and error in out, out
    assert "the adapter does not speak the protocol (contracts/adapter/protocol.json)" in out


def test_a_missing_reply_is_an_error_not_a_hang(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance import adapter_check

    monkeypatch.setattr(adapter_check, "REPLY_GRACE", 0.5)
    original = adapter_check.Conversation.ask

    async def short(self: Any, step: str, request: dict[str, Any]) -> Any:
        return await original(self, step, {**request, "timeout": 0.5})

    monkeypatch.setattr(adapter_check.Conversation, "ask", short)
    code, out = check("silent", capsys)
    assert code == EXIT_NOT_CONFORMANT
    assert "ERROR adapter: generate (a valid request): nothing within 1 s" in out


def test_the_npm_clients_are_in_the_matrix() -> None:
    assert {"replicate-js", "runware-js"} <= set(MATRIX_ADAPTERS)
