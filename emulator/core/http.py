"""Small HTTP helpers every surface needs: bounded bodies, tolerant JSON, the client's origin."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import FormParser, MultiPartParser
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .deadlines import Deadlines, PerLoop
from .journal import Entry
from .padding import Pieces

JOURNAL_STATE = "seedream.journal"
# Surfaces answer every method on their paths, so a wrong one gets the provider's own error, not Starlette's 405.
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


# A body that stops arriving for this long is given up on (a slow or stalled client holds nothing forever).
BODY_IDLE_TIMEOUT = 30.0


class BodyStalled(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no part of the body arrived for {seconds:g} s")
        self.seconds = seconds


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds {limit} bytes")
        self.limit = limit


def _stall(task: asyncio.Task[Any]) -> None:
    _STALLED.add(task)
    task.cancel()


# Bodies being read, each with the time its next part must arrive by; the tasks that missed it.
_READERS: PerLoop[Deadlines[asyncio.Task[Any]]] = PerLoop(lambda loop: Deadlines(loop, _stall))
_STALLED: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    task = asyncio.current_task()
    assert task is not None
    readers, seconds = _READERS.get(), BODY_IDLE_TIMEOUT
    readers.set(task, seconds)
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            readers.set(task, seconds)
    except asyncio.CancelledError:
        if task in _STALLED:
            _STALLED.discard(task)
            if task.uncancel() == 0:
                raise BodyStalled(seconds) from None
        raise
    finally:
        readers.clear(task)
    return b"".join(chunks)


def parse_json(raw: bytes | str) -> Any:
    """Strict RFC 8259 JSON (no NaN, no lone surrogates); integers beyond 64 bits arrive as floats."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(str(exc)) from None


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


def origin(connection: HTTPConnection) -> str:
    """scheme://host[:port] as the client addressed us, whatever the mount prefix."""
    scope = connection.scope
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
    host = connection.headers.get("host")
    if not host:
        server_host, port = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server_host}:{port}"
    return f"{scheme}://{host}"


BEARER = frozenset({"bearer"})


def bearer_token(connection: HTTPConnection, *schemes: str) -> str | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in ({s.lower() for s in schemes} if schemes else BEARER):
        return None
    return token.strip() or None


def journal_entry(connection: HTTPConnection, surface: str, route: str) -> Entry | None:
    """The journal entry of this request, now known to belong to `surface` and `route`."""
    entry: Entry | None = connection.scope.get("state", {}).get(JOURNAL_STATE)
    if entry is not None:
        entry.surface = surface
        entry.route = route
    return entry


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Part:
    """A file part of a multipart body, read into memory."""

    filename: str
    content_type: str
    data: bytes


class MalformedForm(ValueError):
    """A multipart or URL-encoded body that cannot be parsed, or that breaks the given bounds."""


def is_form(headers: Headers) -> bool:
    return headers.get("content-type", "").partition(";")[0].strip().lower() in FORMS


async def read_form(
    headers: Headers, raw: bytes, *, max_files: int, max_fields: int = 1000, max_part_size: int
) -> list[tuple[str, str | Part]]:
    """The fields of a multipart or URL-encoded body already read (and bounded), in order, file parts in memory."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield raw

    multipart = headers.get("content-type", "").lower().startswith(FORMS[0])
    parser = (
        MultiPartParser(headers, stream(), max_files=max_files, max_fields=max_fields, max_part_size=max_part_size)
        if multipart
        else FormParser(headers, stream(), max_fields=max_fields, max_part_size=max_part_size)
    )
    try:
        parsed = await parser.parse()
    except Exception as exc:  # Starlette raises several types for hostile forms; all mean "unreadable"
        raise MalformedForm(getattr(exc, "message", None) or str(exc) or type(exc).__name__) from None
    pairs: list[tuple[str, str | Part]] = []
    try:
        for name, value in parsed.multi_items():
            if isinstance(value, UploadFile):
                kind = value.content_type or "application/octet-stream"
                pairs.append((name, Part(value.filename or "", kind, await value.read())))
            else:
                pairs.append((name, value))
    finally:
        await parsed.close()
    return pairs


class PiecesResponse(Response):
    """A body sent as the pieces it is made of, one after the other (a padded image: see padding.pieces).

    The server writes each piece and waits while the client is behind, so the event loop serves other requests
    between pieces instead of copying a whole 27 MB body in one go."""

    def __init__(self, parts: Pieces, *, media_type: str, headers: dict[str, str]) -> None:
        super().__init__(b"", media_type=media_type, headers={**headers, "Content-Length": str(sum(map(len, parts)))})
        self.parts = parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        parts = self.parts if scope.get("method") != "HEAD" else ()
        for index, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": index < len(parts) - 1})
        if not parts:
            await send({"type": "http.response.body", "body": b""})
