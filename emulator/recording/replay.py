"""`seedream-emulator serve --replay CASSETTE`: recorded requests get their recorded replies, the rest the emulator.

A request matches a recorded one on surface, method, path, query and its normalised body (`cassette.normalised`:
volatile values, tokens and callback URLs blanked). Recorded exchanges with the same key answer in their recorded
order, the last one again once they are used up, so a polling client walks the recorded lifecycle. Volatile values
the client sent (a taskUUID) are put back into the reply in place of the recorded ones; recorded images become
evidence placeholders of the recorded format, dimensions and byte size; callbacks recorded for an exchange are
delivered to the callback URL the client names now. What matches nothing goes to the emulator and is listed
(`GET /_emulator/replay`, a journal note, a log line).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from contracts.cassette import RecordingRules, UnknownSurface, rules

from ..core.http import JOURNAL_STATE
from ..core.journal import Entry
from ..core.runtime import Runtime
from .cassette import (
    REDACTED,
    Cassette,
    Redactor,
    body_bytes,
    encode_body,
    encode_frame,
    normalised,
    normalised_query,
    pairs,
    query_callbacks,
    substitute,
)

logger = logging.getLogger(__name__)
MAX_UNMATCHED = 1_000
# Recorded delays are kept so a client sees frames and callbacks in their order, but no longer than this.
MAX_DELAY = 5.0
Key = tuple[str, str, str, str, str, str]
# Credential headers every HTTP client may send or not (cookies) do not decide a match.
GENERIC_HEADERS = frozenset({"cookie", "set-cookie", "proxy-authorization"})


class Replayer:
    """The exchanges of one cassette, indexed for matching, and what was asked that the cassette lacks."""

    def __init__(self, cassette: Cassette, source: str = "") -> None:
        self.cassette = cassette
        self.source = source
        self.rules: dict[str, RecordingRules] = {}
        self._http: dict[Key, list[dict[str, Any]]] = {}
        self._used: dict[Key, int] = {}
        self.sockets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.unmatched: deque[dict[str, Any]] = deque(maxlen=MAX_UNMATCHED)
        self.served = 0
        for exchange in cassette.exchanges:
            rule = self.rule(exchange["surface"])
            if rule is None:
                continue
            if exchange["kind"] == "http":
                request = exchange["request"]
                key = self.key(
                    rule,
                    request["method"],
                    request["path"],
                    request.get("query", ""),
                    request["body"],
                    request["headers"],
                )
                self._http.setdefault(key, []).append(exchange)
            elif exchange["kind"] == "websocket":
                self.sockets.setdefault((exchange["surface"], exchange["path"]), []).append(exchange)

    def rule(self, surface: str) -> RecordingRules | None:
        if surface not in self.rules:
            try:
                self.rules[surface] = rules(surface)
            except UnknownSurface:
                return None
        return self.rules[surface]

    @staticmethod
    def key(rule: RecordingRules, method: str, path: str, query: str, body: Any, headers: Mapping[str, str]) -> Key:
        # Which credentials were sent counts, not their value (the cassette has none): a request without the key
        # the recorded one carried is the emulator's to refuse, as the provider would.
        credentials = ",".join(sorted(name for name in rule.credential_headers - GENERIC_HEADERS if headers.get(name)))
        return (
            rule.surface,
            method.upper(),
            path,
            normalised_query(query, rule),
            normalised(body, rule),
            credentials,
        )

    def take(self, key: Key) -> dict[str, Any] | None:
        recorded = self._http.get(key)
        if not recorded:
            return None
        index = self._used.get(key, 0)
        self._used[key] = index + 1
        self.served += 1
        return recorded[min(index, len(recorded) - 1)]

    def miss(self, surface: str, transport: str, method: str, path: str, body: Any) -> None:
        self.unmatched.append(
            {"surface": surface, "transport": transport, "method": method, "path": path, "body": body}
        )
        logger.warning(
            "replay: %s %s %s (%s) is not in the cassette; the emulator answers it", transport, method, path, surface
        )

    def report(self) -> dict[str, Any]:
        return {
            "cassette": self.source,
            "exchanges": len(self.cassette.exchanges),
            "served": self.served,
            "unmatched": list(self.unmatched),
        }


class ReplayMiddleware:
    """Answers from the cassette in front of the emulator's surfaces (inside the journal middleware)."""

    def __init__(
        self, app: ASGIApp, replayer: Replayer, prefixes: Mapping[str, str], runtime: Runtime, limit: int
    ) -> None:
        self.app = app
        self.limit = limit
        self.replayer = replayer
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[1]))
        self.runtime = runtime
        self._tasks: set[asyncio.Task[None]] = set()

    def _surface(self, path: str) -> tuple[RecordingRules, str] | None:
        for surface, prefix in self.prefixes:
            if not prefix or path == prefix or path.startswith(prefix + "/"):
                rule = self.replayer.rule(surface)
                return (rule, path[len(prefix) :] or "/") if rule is not None else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._surface(scope.get("path", "")) if scope["type"] in ("http", "websocket") else None
        if found is None or scope["path"].startswith(("/_emulator", "/files/")):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send, *found)
        elif self.replayer.sockets.get((found[0].surface, found[1])):
            await self._socket(scope, receive, send, *found)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send, rule: RecordingRules, path: str) -> None:
        messages: list[Message] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if (
                size > self.limit
            ):  # never recorded (the proxy forwards what the provider accepts); the emulator says 413
                await self.app(scope, _replaying(messages, receive), send)
                return
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        live = encode_body(raw, headers.get("content-type"), rule, Redactor())
        query = scope.get("query_string", b"").decode("latin-1")
        exchange = self.replayer.take(self.replayer.key(rule, scope["method"], path, query, live, headers))
        entry: Entry | None = scope.get("state", {}).get(JOURNAL_STATE)
        if exchange is None:
            self.replayer.miss(rule.surface, "http", scope["method"], path, live)
            if entry is not None:
                entry.notes.append("replay: not in the cassette, so the emulator answered it")
            await self.app(scope, _replaying(messages, receive), send)
            return
        recorded = exchange["request"]["body"]
        mapping = dict(pairs(_json(recorded), _json(live), rule.volatile_fields))
        reply = exchange["response"]
        content, media = body_bytes(_substituted(reply["body"], mapping), f"cassette-{exchange['seq']}")
        if entry is not None:
            entry.surface, entry.route = rule.surface, f"replay {scope['method']} {path}"
            entry.notes.append(f"replay: answered from the cassette (exchange {exchange['seq']})")
        reply_headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in reply["headers"].items()
            if REDACTED not in value and not (media and name == "content-type")
        ]
        if media:
            reply_headers.append((b"content-type", media.encode()))
        reply_headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": reply["status"], "headers": reply_headers})
        await send({"type": "http.response.body", "body": content if scope["method"] != "HEAD" else b""})
        self._deliver(exchange, [*_fields(_json(live), rule.callback_fields), *query_callbacks(query, rule)], mapping)

    def _deliver(self, exchange: dict[str, Any], named: list[tuple[str, str]], mapping: dict[str, str]) -> None:
        """Send the callbacks recorded after this exchange to the URLs the client names in this request."""
        targets = dict(named)
        for callback in self.replayer.cassette.callbacks_for(exchange["seq"]):
            target = targets.get(callback.get("field", ""))
            if target is None:
                continue
            delay = min(MAX_DELAY, max(0.0, float(callback["t"]) - float(exchange["t"])))
            task = asyncio.create_task(self._post(target, callback, delay, mapping))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, target: str, callback: dict[str, Any], delay: float, mapping: dict[str, str]) -> None:
        await asyncio.sleep(delay)
        request = callback["request"]
        content, media = body_bytes(_substituted(request["body"], mapping), f"cassette-{callback['seq']}")
        headers = {name: value for name, value in request["headers"].items() if REDACTED not in value}
        if media:
            headers["content-type"] = media
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                await client.request(request["method"], target, content=content, headers=headers)
        except httpx.HTTPError as exc:
            logger.warning("replay: callback to %s failed: %s", target, exc)

    async def _socket(self, scope: Scope, receive: Receive, send: Send, rule: RecordingRules, path: str) -> None:
        websocket = WebSocket(scope, receive, send)
        recorded = self.replayer.sockets[(rule.surface, path)]
        entry = self.runtime.journal.open(self.runtime.clock.now(), "websocket", "GET", scope["path"])
        entry.surface, entry.route = rule.surface, f"replay WS {path}"
        await websocket.accept()
        used: set[tuple[int, int]] = set()
        current = _unopened(recorded, used)
        if current is not None:
            entry.notes.append(f"replay: answered from the cassette (exchange {current['seq']})")
            await _send_after(websocket, current, -1, used, {})
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                data: str | bytes = message["text"] if message.get("text") is not None else message.get("bytes") or b""
                live = encode_frame(data, rule, Redactor())
                found = _matching_frame(recorded, current, live, rule, used)
                if found is None:
                    self.replayer.miss(rule.surface, "websocket", "FRAME", path, live)
                    entry.notes.append("replay: a frame not in the cassette was left unanswered")
                    continue
                current, index = found
                self.replayer.served += 1
                mapping = dict(pairs(_json(current["frames"][index]["body"]), _json(live), rule.volatile_fields))
                if await _send_after(websocket, current, index, used, mapping):
                    return
        except WebSocketDisconnect:
            return


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that first gives back what was already read."""
    pending = deque(messages)

    async def replayed() -> Message:
        return pending.popleft() if pending else await receive()

    return replayed


def _unopened(recorded: Sequence[dict[str, Any]], used: set[tuple[int, int]]) -> dict[str, Any] | None:
    return next(
        (exchange for exchange in recorded if (exchange["seq"], -1) not in used), recorded[0] if recorded else None
    )


def _matching_frame(
    recorded: Sequence[dict[str, Any]],
    current: dict[str, Any] | None,
    live: Any,
    rule: RecordingRules,
    used: set[tuple[int, int]],
) -> tuple[dict[str, Any], int] | None:
    """The first unused recorded client frame equal to `live` once normalised, in the current exchange first."""
    wanted = normalised(live, rule)
    ordered = ([current] if current is not None else []) + [
        exchange for exchange in recorded if exchange is not current
    ]
    for exchange in ordered:
        for index, frame in enumerate(exchange["frames"]):
            if (
                frame["from"] == "client"
                and (exchange["seq"], index) not in used
                and normalised(frame["body"], rule) == wanted
            ):
                used.add((exchange["seq"], index))
                return exchange, index
    return None


async def _send_after(
    websocket: WebSocket, exchange: dict[str, Any], index: int, used: set[tuple[int, int]], mapping: dict[str, str]
) -> bool:
    """Send the server frames recorded after frame `index` up to the next client frame; True if the server then
    closed the recorded connection."""
    used.add((exchange["seq"], -1))
    frames = exchange["frames"]
    last = frames[index]["t"] if index >= 0 else 0.0
    position = index + 1
    while position < len(frames) and frames[position]["from"] == "server":
        frame = frames[position]
        await asyncio.sleep(min(MAX_DELAY, max(0.0, float(frame["t"]) - float(last))))
        last = frame["t"]
        content, media = body_bytes(_substituted(frame["body"], mapping), f"cassette-{exchange['seq']}-{position}")
        if media is None and (frame["body"] is None or "base64" not in frame["body"]):
            await websocket.send_text(content.decode("utf-8"))
        else:
            await websocket.send_bytes(content)
        position += 1
    close = exchange.get("close") or {}
    if position >= len(frames) and close.get("by") == "server":
        with contextlib.suppress(Exception):
            await websocket.close(code=close.get("code") or 1000)
        return True
    return False


def _json(body: Any) -> Any:
    return body.get("json") if isinstance(body, dict) else None


def _substituted(body: Any, mapping: dict[str, str]) -> Any:
    if not mapping or not isinstance(body, dict) or "json" not in body:
        return body
    return {"json": substitute(body["json"], mapping)}


def _fields(document: Any, names: frozenset[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in names and isinstance(value, str):
                found.append((key, value))
            else:
                found += _fields(value, names)
    elif isinstance(document, list):
        for item in document:
            found += _fields(item, names)
    return found
