"""A bounded record of every request the emulator answered and what was wrong with it."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_VIOLATIONS = 50
# One hostile request must not hold megabytes: a 10 MB prompt used to sit in its violation's message.
MAX_TEXT = 500
MAX_TEXTS = 50


def shortened(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else f"{text[: limit - 40]}… ({len(text):,} characters in all)"


class Texts(list[str]):
    """A list of journal texts (warnings, notes): each shortened, at most MAX_TEXTS of them kept."""

    def __init__(self, items: Iterable[str] = ()) -> None:
        super().__init__()
        if items:  # two empty ones are made for every request
            self.extend(items)

    def append(self, text: str) -> None:
        if len(self) < MAX_TEXTS:
            super().append(shortened(str(text)))

    def extend(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.append(text)


@dataclass
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
        return {**asdict(self), "valid": self.valid}


def mask_key(key: str | None) -> str | None:
    if not key:
        return None
    return key[:4] + "…" if len(key) > 4 else "…"


class Journal:
    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)
        self._seq = itertools.count(1)

    def open(self, at: float, transport: str, method: str, path: str) -> Entry:
        """A new entry, recorded immediately; the caller fills it in as the request proceeds."""
        entry = Entry(next(self._seq), at, transport, method, path)
        self._entries.append(entry)
        return entry

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
