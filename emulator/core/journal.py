"""A bounded record of every request the emulator answered and what was wrong with it."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_VIOLATIONS = 50
# One hostile request must not hold megabytes: a 10 MB prompt used to sit in its violation's message.
MAX_TEXT = 500
MAX_TEXTS = 50
# Bodies are kept for people reading the journal (the dashboard), so a head is enough: each body keeps its first
# BODY_HEAD bytes (a bigger one is size + SHA-256 + head), and the journal holds at most BODY_BUDGET bytes of them,
# dropping the bodies of its oldest entries first (the entries themselves stay).
BODY_HEAD = 16 * 1024
BODY_BUDGET = 16 * 2**20
# A big body is hashed off the event loop, this many bytes at a time.
HASH_BATCH = 4 * 2**20
# Only these are worth showing as text; images and other binary bodies are recorded as size and type.
TEXT_MEDIA = ("application/json", "text/", "application/x-www-form-urlencoded", "multipart/", "application/problem")


def _update(digest: Any, chunks: list[bytes]) -> None:
    for chunk in chunks:
        digest.update(chunk)


def shortened(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else f"{text[: limit - 40]}… ({len(text):,} characters in all)"


class Texts(list[str]):
    """A list of journal texts (warnings, notes): each shortened, at most MAX_TEXTS of them kept. Made empty (two for
    every request, so without a Python-level __init__) and filled through `append` and `extend`."""

    def append(self, text: str) -> None:
        if len(self) < MAX_TEXTS:
            super().append(shortened(str(text)))

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.append(text)


@dataclass(slots=True)
class Body:
    """What the journal keeps of one side of an exchange: its headers (secrets masked) and its body's head."""

    media_type: str
    # Name and value pairs joined into one bytes object, split again only when someone reads the entry: a list of
    # tuples of bytes costs four objects a header, and this is kept twice for every request.
    packed_headers: bytes = b""
    size: int = 0
    head: bytes = b""
    sha256: str | None = None  # of the whole of a text body whose head is not all of it (binary: none)
    _hash: Any = None
    _unhashed: list[bytes] | None = None
    _unhashed_bytes: int = 0

    @classmethod
    def of(cls, raw_headers: Iterable[tuple[bytes, bytes]]) -> Body:
        headers = list(itertools.islice(raw_headers, MAX_TEXTS))
        media_type = b""
        for name, value in headers:
            if name.lower() == b"content-type":
                media_type = value.split(b";", 1)[0].strip().lower()
                break
        return cls(media_type.decode("latin-1"), _AFTER.join([name + _BETWEEN + value for name, value in headers]))

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        return _unpack(self.packed_headers)

    @classmethod
    def frame(cls, text: str) -> Body:
        """A WebSocket text frame a client sent, kept as a JSON body is (there are no headers per frame)."""
        body = cls("application/json")
        body.feed(text.encode("utf-8", "replace"))
        return body

    @property
    def held(self) -> int:
        """Bytes this record keeps alive (its head and its headers), what BODY_BUDGET counts."""
        return len(self.head) + len(self.packed_headers)

    @property
    def textual(self) -> bool:
        return self.media_type.startswith(TEXT_MEDIA)

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        textual = self.media_type.startswith(TEXT_MEDIA)
        if textual and self._hash is None and self.size + len(chunk) > BODY_HEAD:
            self._hash = hashlib.sha256(self.head)
        if textual and len(self.head) < BODY_HEAD:
            # A copy, never the chunk itself: orjson's output keeps the capacity it grew to (4 KiB for a 238-byte
            # Runware reply), and a kept chunk would hold all of it for as long as the entry lives.
            self.head += memoryview(chunk)[: BODY_HEAD - len(self.head)]
        if self._hash is not None:
            if self._unhashed is None:
                self._unhashed = []
            self._unhashed.append(chunk)
            self._unhashed_bytes += len(chunk)
        self.size += len(chunk)

    @property
    def hash_due(self) -> bool:
        return self._unhashed_bytes >= HASH_BATCH

    async def hash_pending(self) -> None:
        """Hash what was fed so far in a thread: SHA-256 of a 64 MB body is a tenth of a second that the event loop
        (and every other request) would otherwise wait for."""
        chunks, self._unhashed, self._unhashed_bytes = self._unhashed or [], None, 0
        await asyncio.to_thread(_update, self._hash, chunks)

    def close(self) -> Body:
        if self._hash is not None:
            _update(self._hash, self._unhashed or [])
            self._unhashed, self._unhashed_bytes = None, 0
            self.sha256, self._hash = self._hash.hexdigest(), None
        return self

    def _decoded_headers(self) -> list[tuple[str, str]]:
        return [(name.decode("latin-1").lower(), shortened(value.decode("latin-1"))) for name, value in self.headers]

    def as_dict(self) -> dict[str, Any]:
        return {
            "headers": [[name, _masked(name, value)] for name, value in self._decoded_headers()],
            "media_type": self.media_type,
            "size": self.size,
            "text": _masked_text(self.head.decode("utf-8", "replace")) if self.textual else None,
            "truncated": self.size > len(self.head) if self.textual else self.size > 0,
            "sha256": self.sha256,
        }


@dataclass(slots=True)
class Entry:
    seq: int
    at: float
    transport: str
    method: str
    path: str
    surface: str = "emulator"
    route: str = ""
    status: int | None = None
    duration_ms: float | None = None
    api_key: str | None = None
    ids: list[str] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    # What the emulator served only because it is kinder than the provider; the harness fails the client on each.
    warnings: list[str] = field(default_factory=Texts)
    # Everything else worth knowing about the exchange (emulator faults, ignored directives, provider quirks).
    notes: list[str] = field(default_factory=Texts)
    # Not in `as_dict` (a journal listing stays small): read one entry's with `detail`.
    request_body: Body | None = None
    reply_body: Body | None = None

    @property
    def valid(self) -> bool:
        return not self.violations

    def add_violations(self, found: Iterable[dict[str, Any]]) -> None:
        """Record violations, keeping at most MAX_VIOLATIONS so one hostile request cannot fill memory."""
        for violation in found:
            if len(self.violations) >= MAX_VIOLATIONS:
                note = f"more than {MAX_VIOLATIONS} violations; the rest were not recorded"
                if note not in self.notes:
                    self.notes.append(note)
                return
            self.violations.append({**violation, "message": shortened(str(violation.get("message", "")))})

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "transport": self.transport,
            "method": self.method,
            "path": self.path,
            "surface": self.surface,
            "route": self.route,
            "status": self.status,
            "duration_ms": self.duration_ms,
            "api_key": self.api_key,
            "ids": list(self.ids),
            "violations": [dict(violation) for violation in self.violations],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "valid": self.valid,
        }

    def detail(self) -> dict[str, Any]:
        """The entry with the bodies it still holds (null when there was none or the journal let it go)."""
        return {
            **self.as_dict(),
            "request_body": self.request_body.as_dict() if self.request_body else None,
            "reply_body": self.reply_body.as_dict() if self.reply_body else None,
        }


SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "set-cookie", "proxy-authorization"})
# Credentials some APIs carry in the body (Runware's authentication task has `apiKey`): masked when read, as keys
# are everywhere else in the journal. A JSON member or a form field of one of these names.
SECRET_FIELDS = re.compile(
    r'(?P<json>"(?:apiKey|api_key|apikey|token|secret|password|access_token|client_secret)"\s*:\s*")(?P<jv>[^"]*)"'
    r"|(?P<form>(?:^|&)(?:apiKey|api_key|token|secret|password)=)(?P<fv>[^&]*)"
)


def _masked(name: str, value: str) -> str:
    if name not in SECRET_HEADERS:
        return value
    scheme, _, secret = value.partition(" ")
    return f"{scheme} {mask_key(secret)}" if secret else mask_key(value) or ""


def _masked_text(text: str) -> str:
    def mask(found: re.Match[str]) -> str:
        if found["json"] is not None:
            return f'{found["json"]}{mask_key(found["jv"]) or ""}"'
        return f"{found['form']}{mask_key(found['fv']) or ''}"

    return SECRET_FIELDS.sub(mask, text)


def mask_key(key: str | None) -> str | None:
    if not key:
        return None
    return key[:4] + "…" if len(key) > 4 else "…"


class Journal:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)
        self._bodied: deque[Entry] = deque()
        self.body_bytes = 0
        self.bodies_dropped = 0

    def open(self, at: float, transport: str, method: str, path: str) -> Entry:
        """A new entry, recorded immediately; the caller fills it in as the request proceeds."""
        entry = Entry(next(self._seq), at, transport, method, path)
        self._entries.append(entry)
        return entry

    def keep_bodies(self, entry: Entry, request: Body | None, reply: Body | None) -> None:
        """Attach an exchange's bodies, letting go of the oldest entries' bodies beyond BODY_BUDGET."""
        entry.request_body = request.close() if request is not None else None
        entry.reply_body = reply.close() if reply is not None else None
        held = _held(entry)
        if not held:
            return
        self._bodied.append(entry)
        self.body_bytes += held
        while self.body_bytes > BODY_BUDGET and self._bodied:
            oldest = self._bodied.popleft()
            self.body_bytes -= _held(oldest)
            oldest.request_body = oldest.reply_body = None
            self.bodies_dropped += 1

    def get(self, seq: int) -> Entry | None:
        # Sequence numbers are consecutive, so the entry's place is known without a search.
        if not self._entries:
            return None
        index = seq - self._entries[0].seq
        if 0 <= index < len(self._entries) and self._entries[index].seq == seq:
            return self._entries[index]
        return None

    def entries(
        self,
        *,
        surface: str | None = None,
        route: str | None = None,
        status: int | None = None,
        valid: bool | None = None,
    ) -> list[Entry]:
        return [
            entry
            for entry in self._entries
            if (surface is None or entry.surface == surface)
            and (route is None or entry.route == route)
            and (status is None or entry.status == status)
            and (valid is None or entry.valid == valid)
        ]

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def reset(self) -> None:
        self._entries.clear()
        self._seq = itertools.count(1)
        self._bodied.clear()
        self.body_bytes = 0


# Neither can appear in a header: a name is a token, and a value holds no control character but tab.
_BETWEEN, _AFTER = b"\x00", b"\x01"


def _unpack(packed: bytes) -> list[tuple[bytes, bytes]]:
    if not packed:
        return []
    pairs = (pair.partition(_BETWEEN) for pair in packed.split(_AFTER))
    return [(name, value) for name, _, value in pairs]


def _held(entry: Entry) -> int:
    request, reply = entry.request_body, entry.reply_body
    return (request.held if request is not None else 0) + (reply.held if reply is not None else 0)
