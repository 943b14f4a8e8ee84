"""The Runware WebSocket transport, against a real uvicorn server and the `websockets` client."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
)

from emulator import read_metadata
from emulator.core.clock import ManualClock
from emulator.providers.runware.socket import Channel
from tests.sdk.live import LiveEmulator
from tests.support import contract_errors, data_uri, inference, task_uuid

from .conftest import sessions

AUTH = [{"taskType": "authentication", "apiKey": "ws-key"}]


@pytest.fixture
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="instant") as server:
        yield server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def slow(clock: ManualClock) -> Iterator[LiveEmulator]:
    with LiveEmulator(clock=clock, timing="realistic") as server:
        yield server


async def connect(live: LiveEmulator, authenticate: bool = True) -> ClientConnection:
    socket = await websockets.connect(f"{live.ws_base}/runware/v1", max_size=None)
    if authenticate:
        await socket.send(json.dumps(AUTH))
        await receive(socket)
    return socket


async def receive(socket: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


async def nothing_arrives(socket: ClientConnection, within: float = 0.3) -> bool:
    try:
        await asyncio.wait_for(socket.recv(), within)
    except TimeoutError:
        return True
    return False


async def server_let_go(live: LiveEmulator) -> None:
    """Wait until the server has noticed every closed socket (detaching their sessions)."""
    for _ in range(200):
        if not live.run(sessions(live.surface("runware")).attached):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server kept a closed socket")


async def until_closed(socket: ClientConnection, timeout: float = 5) -> ConnectionClosed:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), timeout)
    return closed.value


async def test_authentication_answers_with_a_session(live: LiveEmulator) -> None:
    async with await connect(live, authenticate=False) as socket:
        await socket.send(json.dumps(AUTH))
        reply = await receive(socket)
        [item] = reply["data"]
        assert contract_errors("runware", "authenticationResult", item) == []
        assert set(reply) == {"data"}


@pytest.mark.parametrize("key, code", [("", "missingApiKey"), ("wrong", "invalidApiKey"), (None, "missingApiKey")])
async def test_authentication_errors_name_the_authentication_task(key: Any, code: str) -> None:
    with LiveEmulator(timing="instant", api_keys=("right",)) as live:
        async with await connect(live, authenticate=False) as socket:
            await socket.send(json.dumps([{"taskType": "authentication", "apiKey": key}]))
            reply = await receive(socket)
            assert set(reply) == {"errors"}
            [error] = reply["errors"]
            assert (error["code"], error["taskType"]) == (code, "authentication")


async def test_tasks_before_authentication_are_refused_by_task(live: LiveEmulator) -> None:
    async with await connect(live, authenticate=False) as socket:
        task = inference()
        await socket.send(json.dumps([task]))
        [error] = (await receive(socket))["errors"]
        assert (error["code"], error["taskUUID"], error["taskType"]) == (
            "missingApiKey",
            task["taskUUID"],
            "imageInference",
        )


async def test_ping_task_and_protocol_ping_are_answered(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        await socket.send(json.dumps([{"taskType": "ping", "ping": True}]))
        assert await receive(socket) == {"data": [{"taskType": "ping", "pong": True}]}
        await asyncio.wait_for(await socket.ping(), 5)


async def test_sync_images_arrive_one_frame_each(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        task = inference(numberResults=3, width=1024, height=1024)
        await socket.send(json.dumps([task]))
        frames = [await receive(socket) for _ in range(3)]
        for frame in frames:
            assert set(frame) == {"data"}
            [item] = frame["data"]
            assert item["taskUUID"] == task["taskUUID"]
            assert contract_errors("runware", "imageInferenceResult", item) == []
        assert len({frame["data"][0]["imageUUID"] for frame in frames}) == 3
        assert await nothing_arrives(socket)


async def test_batch_setting_sends_all_images_in_one_frame() -> None:
    with LiveEmulator(timing="instant", runware_ws_batch_results=True) as live:
        async with await connect(live) as socket:
            await socket.send(json.dumps([inference(numberResults=3, width=1024, height=1024)]))
            assert len((await receive(socket))["data"]) == 3
            assert await nothing_arrives(socket)


async def test_errors_and_data_never_share_a_frame(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        good, bad = inference(width=1024, height=1024), inference(positivePrompt="")
        await socket.send(json.dumps([good, bad]))
        frames = [await receive(socket) for _ in range(2)]
        assert all(len(frame) == 1 for frame in frames)
        [error] = next(frame for frame in frames if "errors" in frame)["errors"]
        assert (error["code"], error["taskUUID"], error["taskType"]) == (
            "invalidPositivePrompt",
            bad["taskUUID"],
            "imageInference",
        )
        [item] = next(frame for frame in frames if "data" in frame)["data"]
        assert item["taskUUID"] == good["taskUUID"]


async def test_async_task_acknowledges_then_get_response_over_the_socket(
    slow: LiveEmulator, clock: ManualClock
) -> None:
    async with await connect(slow) as socket:
        task = inference(deliveryMethod="async", numberResults=2)
        await socket.send(json.dumps([task]))
        assert await receive(socket) == {"data": [{"taskType": "imageInference", "taskUUID": task["taskUUID"]}]}
        poll = json.dumps([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}])
        await socket.send(poll)
        assert [item["status"] for item in (await receive(socket))["data"]] == ["processing", "processing"]
        clock.advance(60)
        await socket.send(poll)
        items = (await receive(socket))["data"]
        assert [item["status"] for item in items] == ["success", "success"]
        assert all(contract_errors("runware", "getResponseItem", item) == [] for item in items)


async def test_uploads_and_references_work_over_the_socket(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        upload = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": data_uri(160, 90)}
        await socket.send(json.dumps([upload]))
        [item] = (await receive(socket))["data"]
        task = inference(
            model="bytedance:seedream@4.5", resolution="2K", inputs={"referenceImages": [item["imageUUID"]]}
        )
        del task["width"], task["height"]
        await socket.send(json.dumps([task]))
        [image] = (await receive(socket))["data"]
        assert image["imageURL"].endswith(".jpg")


async def test_four_k_base64_frames_are_not_limited(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        task = inference(width=4096, height=4096, outputType="base64Data", outputQuality=99)
        await socket.send(json.dumps([task]))
        raw = await asyncio.wait_for(socket.recv(), 30)
        assert len(raw) > 2**20
        [item] = json.loads(raw)["data"]
        assert read_metadata(base64.b64decode(item["imageBase64Data"]))["width"] == 4096


async def test_oversized_inbound_frames_get_a_clean_error_and_the_socket_lives() -> None:
    with LiveEmulator(timing="instant", max_body_mb=1) as live:
        async with await connect(live) as socket:
            await socket.send(json.dumps([inference(positivePrompt="x" * (2**20 + 1000))]))
            [error] = (await receive(socket))["errors"]
            assert error["code"] == "invalidRequestBody"
            await socket.send(json.dumps([{"taskType": "ping", "ping": True}]))
            assert (await receive(socket))["data"][0]["pong"] is True


async def test_a_frame_far_beyond_the_body_limit_closes_the_socket_before_it_is_buffered() -> None:
    """Reliability audit: frames up to 256 MiB used to be read into memory; the limit now follows max_body_mb."""
    with LiveEmulator(timing="instant", max_body_mb=1) as live:
        async with await connect(live) as socket:
            with pytest.raises((websockets.ConnectionClosed, ConnectionResetError)) as closed:
                await socket.send("x" * (3 * 2**20))  # the server may cut in while this is still being written
                await asyncio.wait_for(socket.recv(), 10)
            if isinstance(closed.value, websockets.ConnectionClosed):
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalidJSON"),
        ("{}", "invalidRequestBody"),
        ("[]", "invalidRequestBody"),
        ('[{"taskType": 1}]', "invalidTaskType"),
    ],
)
async def test_malformed_frames_get_runware_errors(live: LiveEmulator, frame: str, code: str) -> None:
    async with await connect(live) as socket:
        await socket.send(frame)
        assert (await receive(socket))["errors"][0]["code"] == code
        await socket.send(json.dumps([{"taskType": "ping", "ping": True}]))
        assert "data" in await receive(socket)


async def test_idle_sockets_close_after_120_seconds(slow: LiveEmulator, clock: ManualClock) -> None:
    async with await connect(slow) as socket:
        clock.advance(119)
        await socket.send(json.dumps([{"taskType": "ping", "ping": True}]))
        await receive(socket)
        clock.advance(119)
        assert await nothing_arrives(socket)
        clock.advance(2)
        closed = await until_closed(socket)
        assert isinstance(closed, ConnectionClosedOK)
        assert closed.rcvd is not None and closed.rcvd.code == 1000


async def test_results_wait_for_a_resumed_session(slow: LiveEmulator, clock: ManualClock) -> None:
    first = await connect(slow, authenticate=False)
    await first.send(json.dumps(AUTH))
    session = (await receive(first))["data"][0]["connectionSessionUUID"]
    task = inference(numberResults=2)
    await first.send(json.dumps([task]))
    await asyncio.sleep(0.2)
    await first.close()
    await server_let_go(slow)
    clock.advance(60)
    async with await connect(slow, authenticate=False) as second:
        await second.send(json.dumps([{**AUTH[0], "connectionSessionUUID": session}]))
        assert (await receive(second))["data"][0]["connectionSessionUUID"] == session
        delivered = [(await receive(second))["data"][0] for _ in range(2)]
        assert {item["taskUUID"] for item in delivered} == {task["taskUUID"]}


async def test_results_for_a_gone_socket_are_made_when_it_returns_not_held_encoded(
    slow: LiveEmulator, clock: ManualClock
) -> None:
    """Reliability audit: a socket that left with 4K base64 results pending held 2 GB until the buffer expired."""
    first = await connect(slow, authenticate=False)
    await first.send(json.dumps(AUTH))
    session = (await receive(first))["data"][0]["connectionSessionUUID"]
    task = inference(width=4096, height=4096, outputType="base64Data", numberResults=3)
    await first.send(json.dumps([task]))
    await asyncio.sleep(0.2)
    await first.close()
    await server_let_go(slow)
    clock.advance(60)
    await asyncio.sleep(0.3)
    held = slow.run(
        lambda: sum(len(text) for s in sessions(slow.surface("runware"))._sessions.values() for _, text in s.pending)
    )
    assert held < 2**20, f"{held} bytes of frames held for a socket that is gone"
    async with await connect(slow, authenticate=False) as second:
        await second.send(json.dumps([{**AUTH[0], "connectionSessionUUID": session}]))
        assert (await receive(second))["data"][0]["connectionSessionUUID"] == session
        delivered = [(await receive(second))["data"][0] for _ in range(3)]
        assert all(item["taskUUID"] == task["taskUUID"] and item["imageBase64Data"] for item in delivered)


async def test_buffered_results_expire_after_120_seconds(slow: LiveEmulator, clock: ManualClock) -> None:
    first = await connect(slow, authenticate=False)
    await first.send(json.dumps(AUTH))
    session = (await receive(first))["data"][0]["connectionSessionUUID"]
    await first.send(json.dumps([inference()]))
    await asyncio.sleep(0.2)
    await first.close()
    await server_let_go(slow)
    clock.advance(200)
    async with await connect(slow, authenticate=False) as second:
        await second.send(json.dumps([{**AUTH[0], "connectionSessionUUID": session}]))
        assert (await receive(second))["data"][0]["connectionSessionUUID"] != session
        assert await nothing_arrives(second)


async def test_resending_a_task_after_reconnect_is_a_conflict_with_results_kept(live: LiveEmulator) -> None:
    task = inference(width=1024, height=1024)
    async with await connect(live) as first:
        await first.send(json.dumps([task]))
        [original] = (await receive(first))["data"]
    async with await connect(live) as second:
        await second.send(json.dumps([task]))
        [error] = (await receive(second))["errors"]
        assert (error["code"], error["taskUUID"]) == ("conflictTaskUUID", task["taskUUID"])
        await second.send(json.dumps([{"taskType": "getResponse", "taskUUID": task["taskUUID"]}]))
        [polled] = (await receive(second))["data"]
        assert polled["imageUUID"] == original["imageUUID"]


async def test_drop_cuts_the_connection_without_a_close_frame(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        [channel] = live.run(sessions(live.surface("runware")).attached)
        live.call(channel.drop())
        closed = await until_closed(socket)
        assert isinstance(closed, ConnectionClosedError)
        assert closed.rcvd is None


async def test_each_frame_is_journaled(live: LiveEmulator) -> None:
    async with await connect(live) as socket:
        task = inference(positivePrompt="")
        await socket.send(json.dumps([task]))
        await receive(socket)
    entries = [e for e in live.runtime.journal.entries(surface="runware") if e.transport == "ws"]
    assert [e.route for e in entries] == ["WS /v1", "WS /v1"]
    assert entries[-1].ids == [task["taskUUID"]]
    assert entries[-1].violations[0]["path"] == "/0/positivePrompt"
    assert entries[-1].status == 400


@pytest.fixture(scope="module")
def shared_live() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="instant") as server:
        yield server


@settings(max_examples=40, deadline=None)
@given(frame=st.one_of(st.text(max_size=50), st.binary(max_size=50)))
def test_garbage_frames_never_break_the_socket(shared_live: LiveEmulator, frame: str | bytes) -> None:
    async def exchange() -> None:
        async with await connect(shared_live) as socket:
            await socket.send(frame)
            reply = await receive(socket)
            assert set(reply) in ({"errors"}, {"data"})
            await socket.send(json.dumps([{"taskType": "ping", "ping": True}]))
            while "errors" in (reply := await receive(socket)):
                pass
            assert reply["data"][0]["pong"] is True

    asyncio.run(exchange())


async def test_images_finished_while_a_frame_is_on_the_wire_are_still_sent(
    slow: LiveEmulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    send = Channel._send

    async def long_send(channel: Channel, text: str) -> bool:
        if '"imageUUID"' in text:
            clock.advance(60)  # every remaining image finishes while this (large) frame is being written
            for _ in range(20):
                await asyncio.sleep(0)
        return await send(channel, text)

    monkeypatch.setattr(Channel, "_send", long_send)
    async with await connect(slow) as socket:
        task = inference(numberResults=3)
        await socket.send(json.dumps([task]))
        await asyncio.sleep(0.1)
        clock.advance(2.8)
        frames = [await receive(socket) for _ in range(3)]
    assert len({frame["data"][0]["imageUUID"] for frame in frames}) == 3
