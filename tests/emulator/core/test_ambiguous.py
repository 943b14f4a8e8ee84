"""`ambiguous` rules: the request is served in full (the job exists) but the client sees a 5xx or a reset."""

from __future__ import annotations

import pytest

from emulator.core.faults import FaultError, Rule
from tests.conftest import EmulatorFactory
from tests.support import inference


async def test_the_job_is_created_but_the_reply_is_a_gateway_error(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(provider="runware")
    emulator.app.state.emulator.add_fault(action="ambiguous", surface="runware", status=502, times=1)
    task = inference(deliveryMethod="async")
    headers = {"Authorization": "Bearer test-key"}
    reply = await emulator.client.post("/v1", json=[task], headers=headers)
    assert reply.status_code == 502 and reply.headers["content-type"] == "text/html" and "502" in reply.text
    assert emulator.runtime.jobs.get(task["taskUUID"]) is not None, (
        "the provider accepted the task before the gateway failed"
    )
    (entry,) = emulator.runtime.journal.entries(surface="runware")
    assert entry.status == 502 and "became a gateway's 502" in entry.notes[0]
    again = await emulator.client.post("/v1", json=[task], headers=headers)
    assert again.status_code != 502, "the rule fired once"
    assert "conflictTaskUUID" in again.text, "a re-sent taskUUID meets the task the first request created"


async def test_a_dropped_connection_after_the_job_was_created(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(provider="runware")
    emulator.app.state.emulator.add_fault(action="ambiguous", surface="runware", drop=True, times=1)
    task = inference(deliveryMethod="async")
    with pytest.raises(ConnectionResetError):
        await emulator.client.post("/v1", json=[task], headers={"Authorization": "Bearer test-key"})
    assert emulator.runtime.jobs.get(task["taskUUID"]) is not None


async def test_a_refused_request_keeps_its_own_reply(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(provider="runware")
    rule = emulator.app.state.emulator.add_fault(action="ambiguous", surface="runware", times=1)
    reply = await emulator.client.post(
        "/v1", json=[inference(positivePrompt="")], headers={"Authorization": "Bearer k"}
    )
    assert reply.status_code == 400 and rule.fired == 0


def test_an_ambiguous_reply_is_a_server_error() -> None:
    with pytest.raises(FaultError, match="500-599"):
        Rule.from_dict({"action": "ambiguous", "status": 429})
