"""Everything a client sent and received, as the emulator saw it: HTTP exchanges and WebSocket frames.

The recorder is an ASGI wrapper around the emulator application, so the emulator itself knows
nothing about it. Bodies are kept whole up to a bound (large enough to parse any request or poll
reply) and cut beyond it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core.sockets import remember_transport

BODY_LIMIT = 4 * 2**20
MAX_EXCHANGES = 20_000
HIDDEN_HEADERS = {"authorization", "x-api-key", "x-signature", "cookie"}


@dataclass
class Exchange:
    seq: int
    transport: str
    method: str
    path: str
    started: float
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: bytes = b""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    finished: float | None = None
    direction: str = "in"
    # The URL's query string, kept apart from `path` so that reports, which show paths, never show it.
    query: str = ""

    def request_json(self) -> Any:
        return _json(self.request_body)

    def response_json(self) -> Any:
        return _json(self.response_body)

    def summary(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "transport": self.transport,
            "direction": self.direction,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request": _excerpt(self.request_body),
            "response": _excerpt(self.response_body),
        }


class Recorder:
    """Wraps an ASGI app; `exchanges` holds the newest traffic, oldest first."""

    def __init__(self, app: ASGIApp, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.clock = clock
        self.exchanges: deque[Exchange] = deque(maxlen=MAX_EXCHANGES)
        self._seq = itertools.count(1)

    def since(self, seq: int) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.seq > seq]

    @property
    def last_seq(self) -> int:
        return self.exchanges[-1].seq if self.exchanges else 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The server's own send reaches its transport; the emulator needs it to reset connections.
        if scope["type"] in ("http", "websocket"):
            remember_transport(scope, send)
        if scope["type"] == "http" and not scope["path"].startswith("/_emulator"):
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        exchange = self._open("http", scope["method"], scope)
        exchange.request_headers = _headers(scope)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.request_body = _append(exchange.request_body, message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
                }
            elif message["type"] == "http.response.body":
                exchange.response_body = _append(exchange.response_body, message.get("body", b""))
                if not message.get("more_body"):
                    exchange.finished = self.clock()
            await send(message)

        await self.app(scope, recording_receive, recording_send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                frame = self._open("ws", "FRAME", scope, direction="in")
                frame.request_body = _frame(message)[:BODY_LIMIT]
                frame.finished = frame.started
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "websocket.send":
                frame = self._open("ws", "FRAME", scope, direction="out")
                frame.response_body = _frame(message)[:BODY_LIMIT]
                frame.finished = frame.started
            elif message["type"] == "websocket.close":
                frame = self._open("ws", "CLOSE", scope, direction="out")
                frame.status = message.get("code", 1000)
            await send(message)

        await self.app(scope, recording_receive, recording_send)

    def _open(self, transport: str, method: str, scope: Scope, direction: str = "in") -> Exchange:
        query = scope.get("query_string", b"").decode("latin-1")
        exchange = Exchange(
            next(self._seq), transport, method, scope["path"], self.clock(), direction=direction, query=query
        )
        self.exchanges.append(exchange)
        return exchange


def _headers(scope: Scope) -> dict[str, str]:
    headers = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        headers[name] = "…" if name in HIDDEN_HEADERS else raw_value.decode("latin-1")
    return headers


def _append(body: bytes, chunk: bytes) -> bytes:
    if len(body) >= BODY_LIMIT:
        return body
    return body + chunk[: BODY_LIMIT - len(body)]


def _frame(message: Message) -> bytes:
    text = message.get("text")
    return text.encode() if text is not None else bytes(message.get("bytes") or b"")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _excerpt(body: bytes, limit: int = 2000) -> str:
    text = body[: limit * 2].decode("utf-8", errors="replace")
    if len(text) > limit:
        text = text[:limit] + f"… ({len(body)} bytes)"
    return text
