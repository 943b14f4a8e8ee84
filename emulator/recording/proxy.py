"""`seedream-emulator record`: a recording proxy laid out like the emulator (`/<surface>/...`).

Each HTTP exchange is forwarded to the surface's upstream with httpx, each WebSocket is bridged frame by frame
with `websockets`, and callback URLs in requests are rewritten to `/_record/hooks/<id>` on this proxy, which
records what the provider delivers there and passes it on to the client's own URL. Every line is redacted
before it is written (`cassette.Redactor`); nothing unredacted touches the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import websockets
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect

from contracts.cassette import FORMAT, VERSION, RecordingRules, UnknownSurface, Upstream, rules

from .. import __version__
from .cassette import HOP_BY_HOP, WEBSOCKET_HANDSHAKE, Redactor, Writer, encode_body, encode_frame

logger = logging.getLogger(__name__)
HOOKS = "/_record/hooks"
UPSTREAM_TIMEOUT = httpx.Timeout(120.0, connect=15.0)
# The largest upload any provider documents is 100 MB (shared/providers); nothing larger is worth recording.
MAX_BODY = 128 * 2**20
# Callback URLs remembered for deliveries (providers retry for up to hours): a long recording keeps this many.
MAX_HOOKS = 100_000
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class UpstreamError(ValueError):
    pass


def parse_upstreams(values: list[str]) -> dict[str, Upstream]:
    """`SURFACE=URL`, `SURFACE.ws=URL` or a bare `SURFACE` (the provider's real base URLs, from its contract).

    An HTTP URL given without a WebSocket one means WebSockets go to the same host (an emulator as upstream);
    only a bare surface or one given just `.ws` keeps the provider's real HTTP base."""
    http: dict[str, str] = {}
    sockets: dict[str, str] = {}
    named: list[str] = []
    for value in values:
        name, _, url = value.partition("=")
        surface, _, part = name.strip().partition(".")
        url = url.strip().rstrip("/")
        try:
            rules(surface)
        except UnknownSurface as exc:
            raise UpstreamError(str(exc)) from None
        if url and urlsplit(url).scheme not in ("http", "https", "ws", "wss"):
            raise UpstreamError(f"--upstream {value!r}: the URL must start with http(s):// or ws(s)://")
        if part not in ("", "ws") or (part == "ws" and not url):
            raise UpstreamError(f"--upstream {value!r}: write SURFACE, SURFACE=URL or SURFACE.ws=URL")
        if part == "ws":
            sockets[surface] = url
        elif url:
            http[surface] = url
        named.append(surface)
    upstreams = {}
    for surface in dict.fromkeys(named):
        known = rules(surface).upstream
        base = http.get(surface) or known.http
        if base is None:
            raise UpstreamError(f"--upstream {surface}: no HTTP base URL given and none known")
        socket = sockets.get(surface) or (None if surface in http else known.websocket)
        upstreams[surface] = Upstream(base, socket, () if surface in http else known.routes)
    return upstreams


def websocket_base(upstream: Upstream) -> str:
    """Where a surface's WebSockets go: the configured URL, else the HTTP base with its scheme swapped."""
    if upstream.websocket:
        return upstream.websocket
    assert upstream.http is not None
    return "ws" + upstream.http[4:] if upstream.http.startswith("http") else upstream.http


@dataclass
class Hook:
    surface: str
    target: str
    seq: int
    field: str


class Recording:
    """The state of one recording: the cassette being written, the sequence, the callback hooks."""

    def __init__(self, path: Path, upstreams: dict[str, Upstream], public_url: str | None = None) -> None:
        self.path = path
        self.upstreams = upstreams
        self.public_url = public_url.rstrip("/") if public_url else None
        self.rules = {surface: rules(surface) for surface in upstreams}
        self.redactor = Redactor()
        self.started = time.monotonic()
        self.hooks: dict[str, Hook] = {}
        self.count = 0
        self._seq = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._stream = path.open("w", encoding="utf-8")
        self.writer = Writer(self._stream, self.redactor)
        self.writer.write(
            {
                "format": FORMAT,
                "version": VERSION,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "tool": f"seedream-emulator {__version__}",
                "surfaces": {name: {"http": up.http, "websocket": up.websocket} for name, up in upstreams.items()},
            }
        )

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def write(self, record: dict[str, Any]) -> None:
        self.writer.write(record)
        self.count += 1

    def close(self) -> None:
        if not self._stream.closed:
            self._stream.close()

    def hook_url(self, request_base: str, surface: str, target: str, seq: int, field: str) -> str:
        token = secrets.token_urlsafe(12)
        self.hooks[token] = Hook(surface, target, seq, field)
        if len(self.hooks) > MAX_HOOKS:  # oldest first: dicts keep insertion order
            del self.hooks[next(iter(self.hooks))]
        return f"{self.public_url or request_base.rstrip('/')}{HOOKS}/{token}"

    def rewrite_callbacks(self, document: Any, rule: RecordingRules, base: str, surface: str, seq: int) -> Any:
        """The document with each callback URL pointed at a hook of this proxy."""
        if isinstance(document, list):
            return [self.rewrite_callbacks(item, rule, base, surface, seq) for item in document]
        if not isinstance(document, dict):
            return document
        result = {}
        for key, value in document.items():
            if key in rule.callback_fields and isinstance(value, str) and value.startswith(("http://", "https://")):
                result[key] = self.hook_url(base, surface, value, seq, key)
            else:
                result[key] = self.rewrite_callbacks(value, rule, base, surface, seq)
        return result

    def restore_callbacks(self, data: bytes) -> bytes:
        """Hook URLs in a reply (a task echoing its callbackurl) turned back into the client's own URLs."""
        if HOOKS.encode() not in data:
            return data
        text = data.decode("utf-8", "replace")
        for token, hook in self.hooks.items():
            marker = f"{HOOKS}/{token}"
            while marker in text:
                end = text.index(marker) + len(marker)
                start = max(text.rfind("http://", 0, end), text.rfind("https://", 0, end))
                text = text[: max(start, 0)] + hook.target + text[end:]
        return text.encode()


def record_app(recording: Recording, *, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    client = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT, transport=transport, follow_redirects=False)

    async def forward(request: Request) -> Response:
        surface = request.path_params["surface"]
        upstream = recording.upstreams.get(surface)
        if upstream is None or upstream.http is None:
            return _not_recorded(surface, recording)
        rule = recording.rules[surface]
        seq, started = recording.next_seq(), recording.now()
        path = "/" + request.path_params["path"]
        raw = await _bounded_body(request)
        if raw is None:
            return JSONResponse(
                {"error": "too_large", "message": f"bodies over {MAX_BODY} bytes are not recorded"}, 413
            )
        outgoing = _with_hooks(raw, request, rule, recording, surface, seq)
        query = _query_with_hooks(request, rule, recording, surface, seq)
        headers = [(name, value) for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP]
        target = upstream.url(path) + (f"?{query}" if query else "")
        try:
            reply = await client.request(request.method, target, headers=headers, content=outgoing)
            status, content = reply.status_code, recording.restore_callbacks(reply.content)
            reply_headers = [(n, v) for n, v in reply.headers.multi_items() if n.lower() not in HOP_BY_HOP]
        except httpx.HTTPError as exc:
            status, content = 502, json.dumps({"error": "upstream unreachable", "detail": str(exc)}).encode()
            reply_headers = [("content-type", "application/json")]
        redactor = recording.redactor
        recording.write(
            {
                "kind": "http",
                "seq": seq,
                "surface": surface,
                "t": started,
                "duration": round(recording.now() - started, 3),
                "request": {
                    "method": request.method,
                    "path": path,
                    "query": request.url.query,
                    "headers": redactor.headers(request.headers.raw, rule.credential_headers),
                    "body": encode_body(raw, request.headers.get("content-type"), rule, redactor),
                },
                "response": {
                    "status": status,
                    "headers": redactor.headers(reply_headers, rule.credential_headers),
                    "body": encode_body(content, dict(reply_headers).get("content-type"), rule, redactor),
                },
            }
        )
        return Response(content, status_code=status, headers=dict(_merged(reply_headers)))

    async def hook(request: Request) -> Response:
        found = recording.hooks.get(request.path_params["token"])
        if found is None:
            return JSONResponse({"error": "unknown hook"}, status_code=404)
        rule = recording.rules[found.surface]
        raw = await _bounded_body(request)
        if raw is None:
            return JSONResponse({"error": "too_large"}, 413)
        seq, at = recording.next_seq(), recording.now()
        headers = [(name, value) for name, value in request.headers.items() if name.lower() not in HOP_BY_HOP]
        answer: dict[str, Any] | None
        try:
            reply = await client.request(request.method, found.target, headers=headers, content=raw)
            status, content = reply.status_code, reply.content
            answer = {
                "status": status,
                "headers": recording.redactor.headers(reply.headers.multi_items(), rule.credential_headers),
                "body": encode_body(content, reply.headers.get("content-type"), rule, recording.redactor),
            }
        except httpx.HTTPError:
            status, content, answer = 502, b"", None
        secret = rule.credential_headers | rule.callback_credential_headers
        recording.write(
            {
                "kind": "callback",
                "seq": seq,
                "surface": found.surface,
                "t": at,
                "for": found.seq,
                "field": found.field,
                "request": {
                    "method": request.method,
                    "path": urlsplit(found.target).path,
                    "headers": recording.redactor.headers(request.headers.raw, secret),
                    "body": encode_body(raw, request.headers.get("content-type"), rule, recording.redactor),
                },
                "response": answer,
            }
        )
        return Response(content, status_code=status)

    async def bridge(websocket: WebSocket) -> None:
        surface = websocket.path_params["surface"]
        upstream = recording.upstreams.get(surface)
        if upstream is None:
            await websocket.close(code=1008)
            return
        rule = recording.rules[surface]
        path = "/" + websocket.path_params["path"]
        query = websocket.url.query
        url = websocket_base(upstream) + path + (f"?{query}" if query else "")
        forwarded = [
            (name, value)
            for name, value in websocket.headers.items()
            if name.lower() not in HOP_BY_HOP | WEBSOCKET_HANDSHAKE | {"origin", "sec-websocket-protocol", "user-agent"}
        ]
        seq, opened, opened_at = recording.next_seq(), recording.now(), time.monotonic()
        frames: list[dict[str, Any]] = []
        closed: dict[str, Any] = {}
        try:
            upstream_socket = await connect(
                url,
                additional_headers=forwarded,
                user_agent_header=websocket.headers.get("user-agent"),
                max_size=None,
                compression=None,
            )
        except (OSError, websockets.InvalidHandshake) as exc:
            logger.warning("cannot reach %s: %s", url, exc)
            await websocket.close(code=1011)
            return
        await websocket.accept()

        def note(origin: str, message: str | bytes) -> None:
            body = encode_frame(message, rule, recording.redactor)
            frames.append({"from": origin, "t": round(time.monotonic() - opened_at, 3), "body": body})

        async def client_to_upstream() -> None:
            try:
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        closed.setdefault("by", "client")
                        closed.setdefault("code", message.get("code"))
                        return
                    data: str | bytes = (
                        message["text"] if message.get("text") is not None else message.get("bytes") or b""
                    )
                    note("client", data)
                    await upstream_socket.send(_frame_with_hooks(data, rule, recording, websocket, surface, seq))
            except (WebSocketDisconnect, websockets.ConnectionClosed):
                closed.setdefault("by", "client")

        async def upstream_to_client(channel: ClientConnection) -> None:
            try:
                async for message in channel:
                    text = (
                        recording.restore_callbacks(message.encode()).decode() if isinstance(message, str) else message
                    )
                    note("server", text)
                    if isinstance(text, str):
                        await websocket.send_text(text)
                    else:
                        await websocket.send_bytes(text)
            except websockets.ConnectionClosed:
                pass
            closed.setdefault("by", "server")
            closed.setdefault("code", channel.close_code)

        tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client(upstream_socket))]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await upstream_socket.close()
        with contextlib.suppress(Exception):
            await websocket.close(code=closed.get("code") or 1000)
        recording.write(
            {
                "kind": "websocket",
                "seq": seq,
                "surface": surface,
                "t": opened,
                "path": path,
                "query": query,
                "headers": recording.redactor.headers(websocket.headers.raw, rule.credential_headers),
                "frames": frames,
                "close": closed,
            }
        )

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "recording",
                "cassette": str(recording.path),
                "exchanges": recording.count,
                "surfaces": {
                    name: {"http": up.http, "websocket": up.websocket} for name, up in recording.upstreams.items()
                },
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()
        recording.close()

    return Starlette(
        routes=[
            Route("/_record/health", health, methods=["GET"]),
            Route(HOOKS + "/{token}", hook, methods=METHODS),
            Route("/{surface}/{path:path}", forward, methods=METHODS),
            WebSocketRoute("/{surface}/{path:path}", bridge),
        ],
        lifespan=lifespan,
    )


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None once it passes MAX_BODY (the proxy holds each body whole to record it)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _not_recorded(surface: str, recording: Recording) -> Response:
    known = ", ".join(sorted(recording.upstreams)) or "none"
    return JSONResponse(
        {"error": "not_recorded", "message": f"no upstream for {surface!r}; recording: {known} (--upstream)"},
        status_code=404,
    )


def _merged(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.lower() not in ("content-length", "content-encoding")]


def _with_hooks(
    raw: bytes, request: Request, rule: RecordingRules, recording: Recording, surface: str, seq: int
) -> bytes:
    if not rule.callback_fields or not raw or "json" not in request.headers.get("content-type", "json"):
        return raw
    try:
        document = json.loads(raw)
    except ValueError:
        return raw
    base = str(request.base_url)
    rewritten = recording.rewrite_callbacks(document, rule, base, surface, seq)
    return raw if rewritten == document else json.dumps(rewritten).encode()


def _query_with_hooks(request: Request, rule: RecordingRules, recording: Recording, surface: str, seq: int) -> str:
    """The query string with each callback URL passed as a parameter (a webhook given in the query) pointed at a hook."""
    query = request.url.query
    if not query or not any(name in query for name in rule.callback_fields):
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    base = str(request.base_url)
    rewritten = [
        (name, recording.hook_url(base, surface, value, seq, name))
        if name in rule.callback_fields and value.startswith(("http://", "https://"))
        else (name, value)
        for name, value in pairs
    ]
    return urlencode(rewritten)


def _frame_with_hooks(
    data: str | bytes, rule: RecordingRules, recording: Recording, websocket: WebSocket, surface: str, seq: int
) -> str | bytes:
    if isinstance(data, bytes) or not rule.callback_fields:
        return data
    try:
        document = json.loads(data)
    except ValueError:
        return data
    base = f"{'https' if websocket.url.scheme == 'wss' else 'http'}://{websocket.url.netloc}"
    rewritten = recording.rewrite_callbacks(document, rule, base, surface, seq)
    return data if rewritten == document else json.dumps(rewritten)
