"""Small HTTP helpers every surface needs: bounded bodies, tolerant JSON, the client's origin."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request

from .journal import Entry

JOURNAL_STATE = "seedream.journal"
# Surfaces answer every method on their paths, so a wrong one gets the provider's own error, not Starlette's 405.
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
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


def bearer_token(connection: HTTPConnection, *schemes: str) -> str | None:
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() not in {s.lower() for s in schemes or ("Bearer",)}:
        return None
    return token.strip() or None


def journal_entry(connection: HTTPConnection, surface: str, route: str) -> Entry | None:
    """The journal entry of this request, now known to belong to `surface` and `route`."""
    entry: Entry | None = connection.scope.get("state", {}).get(JOURNAL_STATE)
    if entry is not None:
        entry.surface = surface
        entry.route = route
    return entry
