"""What the dashboard reads: one journal entry with its exchange, new entries since a seq, and job controls."""

from __future__ import annotations

import json

import httpx
import websockets

from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.runware.conftest import Runware
from tests.sdk.live import LiveEmulator
from tests.support import inference


async def test_an_entry_shows_the_request_and_reply_it_recorded(emulator: Emulator) -> None:
    task = inference(positivePrompt="")
    response = await Runware(emulator).create(task)
    assert response.status_code == 400
    [entry] = (await emulator.client.get("/_emulator/journal")).json()["entries"]
    assert "request_body" not in entry
    detail = (await emulator.client.get(f"/_emulator/journal/{entry['seq']}")).json()
    assert detail["violations"][0]["path"] == "/0/positivePrompt"
    assert task["taskUUID"] in detail["request_body"]["text"]
    assert detail["reply_body"]["text"] == response.text
    assert ["content-type", "application/json"] in detail["reply_body"]["headers"]
    assert (await emulator.client.get("/_emulator/journal/99")).status_code == 404


async def test_a_poller_asks_only_for_what_it_has_not_seen(emulator: Emulator) -> None:
    for _ in range(3):
        await Runware(emulator).create(inference())
    entries = (await emulator.client.get("/_emulator/journal?after=2")).json()["entries"]
    assert [entry["seq"] for entry in entries] == [3]


async def test_jobs_can_be_failed_or_canceled_from_the_control_plane(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(timing="realistic")
    ids = []
    for _ in range(2):
        task = inference(deliveryMethod="async")
        assert (await Runware(emulator).create(task)).status_code == 200
        ids.append(task["taskUUID"])
    failed = await emulator.client.post(
        f"/_emulator/jobs/{ids[0]}/fail", json={"failure": "content_policy", "message": "no"}
    )
    assert failed.json()["state"] == "failed"
    assert failed.json()["failure"] == {"kind": "content_policy", "message": "no"}
    polled = await Runware(emulator).poll(ids[0])
    assert polled.json()["errors"][0]["code"] == "contentPolicyViolation"
    canceled = await emulator.client.post(f"/_emulator/jobs/{ids[1]}/cancel")
    assert canceled.json()["state"] == "canceled"
    # A finished job stays as it is.
    assert (await emulator.client.post(f"/_emulator/jobs/{ids[1]}/fail")).json()["state"] == "canceled"
    assert (await emulator.client.post("/_emulator/jobs/nope/cancel")).status_code == 404
    assert (await emulator.client.post(f"/_emulator/jobs/{ids[0]}/fail", json={"failure": ""})).status_code == 422


async def test_a_websocket_frame_is_kept_as_sent_with_its_key_masked() -> None:
    with LiveEmulator(timing="instant") as live:
        async with websockets.connect(f"{live.ws_base}/runware/v1") as socket:
            await socket.send(json.dumps([{"taskType": "authentication", "apiKey": "sk-live-123456"}]))
            await socket.recv()
            task = inference(positivePrompt="<b>a fox</b>")
            await socket.send(json.dumps([task]))
            await socket.recv()
        async with httpx.AsyncClient(base_url=f"{live.base}/_emulator") as control:
            entries = (await control.get("/journal")).json()["entries"]
            assert [entry["transport"] for entry in entries] == ["ws", "ws"]
            auth, inferred = [(await control.get(f"/journal/{entry['seq']}")).json() for entry in entries]
    assert "123456" not in auth["request_body"]["text"] and "sk-l…" in auth["request_body"]["text"]
    assert json.loads(inferred["request_body"]["text"]) == [task]
    assert inferred["reply_body"] is None
