"""Fault rules that close WebSockets, cleanly or abruptly, on the surfaces that have sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
import websockets
from websockets.exceptions import (
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
)

from tests.emulator.faults.drivers import Wiro
from tests.sdk.live import LiveEmulator
from tests.support import inference


@pytest.fixture
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="instant") as server:
        yield server


async def closed(socket: websockets.ClientConnection) -> ConnectionClosed:
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await asyncio.wait_for(socket.recv(), 5)
    return info.value


@pytest.mark.parametrize(
    "mode, kind, code", [("close", ConnectionClosedOK, 1000), ("abrupt", ConnectionClosedError, None)]
)
async def test_runware_socket_closes_as_the_rule_says(
    live: LiveEmulator, mode: str, kind: type, code: int | None
) -> None:
    live.app.state.emulator.add_fault(action="disconnect", surface="runware", route="WS *", disconnect=mode, times=1)
    async with websockets.connect(f"{live.ws_base}/runware/v1", max_size=None) as socket:
        await socket.send(json.dumps([{"taskType": "authentication", "apiKey": "k"}]))
        await socket.recv()
        await socket.send(json.dumps([inference()]))
        ended = await closed(socket)
    assert isinstance(ended, kind)
    assert (ended.rcvd.code if ended.rcvd else None) == code


@pytest.mark.parametrize("mode, kind", [("close", ConnectionClosedOK), ("abrupt", ConnectionClosedError)])
async def test_wiro_socket_closes_as_the_rule_says(live: LiveEmulator, mode: str, kind: type) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=live.base) as http:
        reply, _ = await Wiro(http).submit()
    token = reply.body["socketaccesstoken"]
    live.app.state.emulator.add_fault(action="disconnect", surface="wiro", route="WS *", disconnect=mode, times=1)
    async with websockets.connect(f"{live.ws_base}/wiro/v1") as socket:
        await socket.send(json.dumps({"type": "task_info", "tasktoken": token}))
        ended = await closed(socket)
    assert isinstance(ended, kind)


async def test_http_reset_over_a_real_socket_is_a_transport_error(live: LiveEmulator) -> None:
    import httpx

    live.app.state.emulator.add_fault(action="disconnect", surface="runware", disconnect="reset", times=1)
    async with httpx.AsyncClient(base_url=live.base) as http:
        with pytest.raises(httpx.TransportError):
            await http.post("/runware/v1", json=[inference()], headers={"Authorization": "Bearer k"})
        answered = await http.post("/runware/v1", json=[inference()], headers={"Authorization": "Bearer k"})
        assert answered.status_code == 200
