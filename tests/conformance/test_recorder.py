"""The recorder keeps what a client sent and got back, hides credentials and bounds what it keeps."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from conformance import recorder
from conformance.recorder import Recorder


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await send({"type": "websocket.send", "text": "echo:" + message["text"]})
        await send({"type": "websocket.close", "code": 4001})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 201, "headers": [(b"x-reply", b"yes")]})
    await send({"type": "http.response.body", "body": b"got " + body})


async def post(app: Recorder, path: str, body: bytes, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator") as client:
        return await client.post(path, content=body, headers=headers)


async def test_http_exchanges_are_kept_with_credentials_hidden() -> None:
    app = Recorder(echo)
    await post(
        app,
        "/runware/v1",
        b'[{"taskType": "ping"}]',
        authorization="Bearer secret",
        **{"x-signature": "s", "x-nonce": "7"},
    )
    [exchange] = app.since(0)
    assert (exchange.method, exchange.path, exchange.status) == ("POST", "/runware/v1", 201)
    assert exchange.request_json() == [{"taskType": "ping"}] and exchange.response_body == b'got [{"taskType": "ping"}]'
    assert exchange.request_headers["authorization"] == exchange.request_headers["x-signature"] == "…"
    assert exchange.request_headers["x-nonce"] == "7" and exchange.response_headers["x-reply"] == "yes"
    assert exchange.finished is not None and exchange.finished >= exchange.started


async def test_control_calls_are_not_client_traffic() -> None:
    app = Recorder(echo)
    await post(app, "/_emulator/reset", b"")
    assert app.since(0) == [] and app.last_seq == 0


async def test_bodies_are_cut_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder, "BODY_LIMIT", 10)
    app = Recorder(echo)
    await post(app, "/x", b"0123456789abcdef")
    [exchange] = app.since(0)
    assert exchange.request_body == b"0123456789" and exchange.response_body == b"got 012345"
    assert exchange.summary()["request"] == "0123456789"


async def test_websocket_frames_both_ways_and_the_close_code() -> None:
    app = Recorder(echo)
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '[{"taskType":"ping"}]'},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: dict[str, Any] = {"type": "websocket", "path": "/runware/v1", "headers": []}
    await app(scope, receive, send)
    frames = [(e.direction, e.method, e.request_body or e.response_body, e.status) for e in app.since(0)]
    assert frames == [
        ("in", "FRAME", b'[{"taskType":"ping"}]', None),
        ("out", "FRAME", b'echo:[{"taskType":"ping"}]', None),
        ("out", "CLOSE", b"", 4001),
    ]
    assert app.since(2)[0].method == "CLOSE"


async def test_the_query_is_kept_apart_from_the_path() -> None:
    # Reports show paths; the query, where a careless client puts its key, is only for the checks to search.
    app = Recorder(echo)
    await post(app, "/v1/tasks/t1?key=secret&x=1", b"")
    [exchange] = app.since(0)
    assert (exchange.path, exchange.query) == ("/v1/tasks/t1", "key=secret&x=1")
    assert "secret" not in str(exchange.summary())
