import asyncio
from typing import Any

import pytest

from contracts.counts import ask
from contracts.wiro import rules
from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from tests.support import contract_errors, drive

from .conftest import (
    SocketSession,
    Wiro,
    signed_headers,
    until,
)


async def register(session: SocketSession, token: str) -> None:
    await session.send({"type": "task_info", "tasktoken": token})


async def collect(session: SocketSession) -> list[dict[str, Any]]:
    """Frames until the terminal one, each checked against the contract."""
    received: list[dict[str, Any]] = []
    while not received or not received[-1]["terminal"]:
        frame = await session.receive()
        assert contract_errors("wiro", "socketFrame", frame) == [], frame
        received.append(frame)
    return received


def expected_order(images: int) -> list[str]:
    lifecycle = rules.LIFECYCLE
    return [
        *lifecycle["queued"],
        *lifecycle["running"],
        *lifecycle["output"] * images,
        *lifecycle["succeeded"],
        *lifecycle["postprocessed"],
    ]


async def test_live_registration_streams_every_event_in_order(make_wiro, clock: ManualClock) -> None:
    wiro = await make_wiro(clock=clock, timing="realistic")
    reply = await wiro.create(prompt=ask("a lighthouse at dusk", 3), maxImages=3)
    async with SocketSession(wiro.emulator.app) as session:
        welcome = await session.receive()
        assert welcome == {"type": "connected", "version": "1.0"}
        assert contract_errors("wiro", "socketConnected", welcome) == []
        await register(session, reply["socketaccesstoken"])
        first = await session.receive()
        assert first["type"] == "task_queue" and first["message"] is None and first["terminal"] is False
        assert session.pending() == 0, "nothing else happened yet"
        task = wiro.stored(reply["taskid"])
        await drive(clock, lambda: task.status == "task_postprocess_start", step=0.25)
        await until(lambda: task.terminal)
        frames = [first, *await collect(session)]
    assert [frame["type"] for frame in frames] == expected_order(3)
    assert all(frame["id"] == reply["taskid"] and frame["tasktoken"] == reply["socketaccesstoken"] for frame in frames)
    progress = [frame["message"] for frame in frames if frame["type"] == "task_output"]
    assert [p["percentage"] for p in progress] == ["33", "67", "100"]
    assert [(p["stepCurrent"], p["stepTotal"]) for p in progress] == [("1", "3"), ("2", "3"), ("3", "3")]
    full = next(frame for frame in frames if frame["type"] == "task_output_full")
    assert full["message"]["raw"].count("\n") == 2
    last = frames[-1]
    assert (last["type"], last["success"], last["terminal"], last["exitCode"]) == (
        "task_postprocess_end",
        True,
        True,
        0,
    )
    detail = await wiro.task(reply["taskid"])
    assert last["message"] == detail["outputs"] and len(last["message"]) == 3


async def test_late_registration_replays_what_was_missed(wiro: Wiro) -> None:
    reply = await wiro.create(prompt=ask("a lighthouse at dusk", 2), maxImages=2)
    await wiro.finished(reply["taskid"])
    async with SocketSession(wiro.emulator.app) as session:
        await session.receive()
        await register(session, reply["socketaccesstoken"])
        frames = await collect(session)
    assert [frame["type"] for frame in frames] == expected_order(2)
    assert [output["name"] for output in frames[-1]["message"]] == ["0.png", "1.png"]


async def test_registration_midway_catches_up_then_follows(make_wiro, clock: ManualClock) -> None:
    wiro = await make_wiro(clock=clock, timing="realistic")
    reply = await wiro.create()
    clock.advance(1)
    await wiro.task(reply["taskid"])
    async with SocketSession(wiro.emulator.app) as session:
        await session.receive()
        await register(session, reply["socketaccesstoken"])
        caught_up = [await session.receive() for _ in range(6)]
        assert [frame["type"] for frame in caught_up] == expected_order(1)[:6]
        assert session.pending() == 0
        response = await wiro.kill(taskid=reply["taskid"])
        assert response.json()["result"] is True
        cancel = await session.receive()
    assert (cancel["type"], cancel["terminal"], cancel["success"], cancel["exitCode"]) == (
        "task_cancel",
        True,
        False,
        None,
    )


async def test_unknown_and_missing_tokens_get_error_frames_and_the_socket_stays_open(wiro: Wiro) -> None:
    reply = await wiro.create()
    async with SocketSession(wiro.emulator.app) as session:
        await session.receive()
        await register(session, "NoSuchTokenNoSuchTokenNoSuchTo")
        unknown = await session.receive()
        assert unknown == {"type": "error", "message": "tasktoken-not-found", "result": False}
        assert contract_errors("wiro", "socketError", unknown) == []
        await session.send({"type": "task_info", "tasktoken": ""})
        assert await session.receive() == {"type": "error", "message": "tasktoken-required", "result": False}
        await session.send({"type": "task_info"})
        assert (await session.receive())["message"] == "tasktoken-required"
        await register(session, reply["socketaccesstoken"])
        assert (await session.receive())["type"] == "task_queue"


async def test_other_frames_are_ignored_silently(wiro: Wiro) -> None:
    reply = await wiro.create()
    async with SocketSession(wiro.emulator.app) as session:
        await session.receive()
        for noise in ["not json", '{"type": "ping"}', "[1, 2]", '"text"', '{"type": "agent_info", "agenttoken": "x"}']:
            await session.send(noise)
        await register(session, reply["socketaccesstoken"])
        assert (await session.receive())["type"] == "task_queue"
    entries = wiro.runtime.journal.entries(surface="wiro")
    socket_entries = [entry for entry in entries if entry.transport == "ws"]
    assert len(socket_entries) == 6
    assert socket_entries[0].violations and socket_entries[-1].route == "WS /v1 task_info"
    assert socket_entries[-1].ids == [reply["taskid"]]


async def test_one_connection_follows_several_tasks_once_each(wiro: Wiro) -> None:
    first, second = await wiro.create(), await wiro.create()
    tasks = [wiro.stored(reply["taskid"]) for reply in (first, second)]
    await until(lambda: all(task.terminal for task in tasks))
    async with SocketSession(wiro.emulator.app) as session:
        await session.receive()
        await register(session, first["socketaccesstoken"])
        await register(session, first["socketaccesstoken"])
        await register(session, second["socketaccesstoken"])
        frames: list[dict[str, Any]] = []
        while sum(frame["terminal"] for frame in frames) < 2:
            frames.append(await session.receive())
        for reply in (first, second):
            own = [frame["type"] for frame in frames if frame["id"] == reply["taskid"]]
            assert own == expected_order(1)
        with pytest.raises(TimeoutError):
            await session.receive(timeout=0.05)


async def test_the_welcome_frame_can_be_switched_off(make_wiro) -> None:
    wiro = await make_wiro(wiro_socket_welcome=False)
    reply = await wiro.create()
    async with SocketSession(wiro.emulator.app) as session:
        await register(session, reply["socketaccesstoken"])
        assert (await session.receive())["type"] == "task_queue"


async def test_failed_task_frame_reports_the_exit_code(make_wiro, clock: ManualClock) -> None:
    from emulator.core.jobs import Failure

    wiro = await make_wiro(clock=clock, timing="realistic")
    reply = await wiro.create()
    async with SocketSession(wiro.emulator.app) as session:
        await session.receive()
        await register(session, reply["socketaccesstoken"])
        assert (await session.receive())["type"] == "task_queue"
        task = wiro.stored(reply["taskid"])
        wiro.runtime.jobs.get(task.uuid).fail(Failure("exit", "boom"), clock.now())
        frames = await collect(session)
    assert frames[0] == {**frames[0], "type": "task_error", "message": "boom"}
    assert (frames[-1]["type"], frames[-1]["success"], frames[-1]["exitCode"], frames[-1]["message"]) == (
        "task_postprocess_end",
        False,
        1,
        [],
    )


async def test_single_provider_serves_the_socket_at_v1() -> None:
    import httpx

    app = create_app(Settings(provider="wiro", timing="instant", seed=1, control_hosts=("testserver",)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.post("/v1/Run/bytedance/seedream-v4", json={"prompt": "root"}, headers=signed_headers())
        reply = response.json()
        assert reply["result"] is True
        health = (await client.get("/_emulator/health")).json()["surfaces"]["wiro"]
        assert health == {"REST": "http://testserver/v1", "WebSocket": "ws://testserver/v1"}
        async with SocketSession(app, "/v1") as session:
            await session.receive()
            await register(session, reply["socketaccesstoken"])
            assert (await session.receive())["type"] == "task_queue"
        unknown = await client.post("/v2/Run", headers=signed_headers())
        assert unknown.status_code == 404 and unknown.json()["errors"][0]["message"] == "Error parsing url."
    await app.state.emulator.runtime.aclose()


async def test_a_stream_ends_when_its_task_is_forgotten_before_the_last_frame(wiro: Wiro, monkeypatch) -> None:
    """The last frame comes from storing the outputs, after the job ended; a reset cancels that work, and a client
    following the task then gets nothing more rather than a stream that waits for ever."""
    stored = asyncio.Event()

    async def never(spec):
        await stored.wait()

    monkeypatch.setattr(wiro.runtime, "render", never)
    reply = await wiro.create()
    task = wiro.stored(reply["taskid"])
    await until(lambda: task.status == "task_postprocess_start")
    frames = [frame async for frame in _until_idle(wiro.service.tasks.frames(task))]
    assert frames[-1]["type"] == "task_postprocess_start" and not frames[-1]["terminal"]
    await wiro.client.post("/_emulator/reset")
    stream = wiro.service.tasks.frames(task)
    followed = await asyncio.wait_for(_drain(stream), 1)
    assert [frame["type"] for frame in followed] == [frame["type"] for frame in frames]


async def _drain(stream) -> list:
    return [frame async for frame in stream]


async def _until_idle(stream):
    """The frames a stream has ready now (it would wait for the next one after them)."""
    while True:
        try:
            yield await asyncio.wait_for(anext(stream), 0.05)
        except TimeoutError:
            return
