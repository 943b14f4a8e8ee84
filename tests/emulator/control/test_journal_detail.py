"""What the dashboard reads: one journal entry with its exchange, new entries since a seq, and job controls."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import httpx
import websockets
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.runware.conftest import Runware
from tests.sdk.live import LiveEmulator
from tests.support import inference

JSON = {"Content-Type": "application/json"}


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


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=200),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=30, deadline=None)
@given(
    body=JSON_VALUES | st.dictionaries(st.sampled_from(["failure", "message", "x"]), JSON_VALUES),
    seq=st.text(min_size=1),
)
def test_malformed_job_and_journal_requests_get_a_4xx_never_a_5xx(body: object, seq: str) -> None:
    # "." and ".." are dot segments the client removes, and "/" (sent as %2F) is decoded by the server: each leaves
    # /_emulator/journal/ or /_emulator/journal//, which redirect to the list.
    assume(seq not in (".", "..", "/"))

    async def run() -> None:
        app = create_app(Settings(timing="instant", seed=1))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            task = inference(deliveryMethod="async")
            await client.post("/runware/v1", json=[task], headers={"Authorization": "Bearer k"})
            for path in (f"/_emulator/jobs/{task['taskUUID']}/fail", "/_emulator/jobs/nope/cancel"):
                reply = await client.post(path, content=json.dumps(body, allow_nan=True), headers=JSON)
                assert reply.status_code in (200, 404, 422), reply.text
            reply = await client.get("/_emulator/journal/" + quote(seq, safe=""))
            assert reply.status_code in (200, 404, 422), reply.text
            await app.state.emulator.runtime.aclose()

    asyncio.run(run())
