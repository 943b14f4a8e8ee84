"""Cassettes: what a recording proxy writes, and what each surface's `recording.json` says about its traffic.

A surface becomes recordable, replayable and drift-checked by one data file, `contracts/<surface>/recording.json`:
which headers and fields hold credentials or tokens, which fields hold callback URLs, which values change on every
call (volatile: ignored when matching), which name things the server created (identities: mapped when a recorded
request is sent again), which hold enumerations and lifecycle states, and which headers matter. The machinery that
reads it (`emulator/recording`, `conformance/drift.py`) names no surface.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
FORMAT = "seedream-cassette"
VERSION = 1
RULES_FILE = "recording.json"
# HTTP itself, not any provider: these carry credentials whoever serves them.
HTTP_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "cookie", "set-cookie")


class UnknownSurface(LookupError):
    pass


@dataclass(frozen=True)
class Upstream:
    http: str | None
    websocket: str | None
    # Where a provider serves parts of its API from other hosts: (path prefix, base URL), the prefix dropped.
    routes: tuple[tuple[str, str], ...] = ()

    def url(self, path: str) -> str:
        """The upstream URL of a path below the surface's base."""
        for prefix, base in self.routes:
            if path == prefix or path.startswith(prefix + "/"):
                return base + path[len(prefix) :]
        return f"{self.http}{path}"


@dataclass(frozen=True)
class RecordingRules:
    """One surface's `recording.json`, names lowercased where HTTP ignores case."""

    surface: str
    upstream: Upstream
    websocket_paths: tuple[str, ...] = ()
    credential_headers: frozenset[str] = frozenset(HTTP_CREDENTIAL_HEADERS)
    credential_fields: frozenset[str] = frozenset()
    token_fields: frozenset[str] = frozenset()
    callback_fields: frozenset[str] = frozenset()
    callback_credential_headers: frozenset[str] = frozenset()
    volatile_fields: frozenset[str] = frozenset()
    identity_fields: frozenset[str] = frozenset()
    enum_fields: frozenset[str] = frozenset()
    state_fields: frozenset[str] = frozenset()
    headers: tuple[str, ...] = ("content-type",)
    drift_settings: dict[str, Any] = field(default_factory=dict)
    # What drift sends in place of a redacted header, where the emulator needs more than "[redacted]" (a form).
    drift_headers: dict[str, str] = field(default_factory=dict)

    @property
    def secret_fields(self) -> frozenset[str]:
        return self.credential_fields | self.token_fields

    def is_websocket(self, path: str) -> bool:
        return path in self.websocket_paths


def rules_path(surface: str) -> Path:
    return ROOT / surface / RULES_FILE


@cache
def rules(surface: str) -> RecordingRules:
    """The recording rules of `surface`, read from its contract directory (UnknownSurface if it has none)."""
    path = rules_path(surface)
    if not surface.isidentifier() or not path.is_file():
        raise UnknownSurface(f"{surface!r} has no {RULES_FILE} in contracts/{surface}/, so it cannot be recorded")
    data = json.loads(path.read_text(encoding="utf-8"))
    upstream = data.get("upstream") or {}

    def names(key: str, lower: bool = False) -> frozenset[str]:
        return frozenset(name.lower() if lower else name for name in data.get(key, ()))

    return RecordingRules(
        surface=surface,
        upstream=Upstream(
            upstream.get("http"),
            upstream.get("websocket"),
            tuple((prefix, base) for prefix, base in (upstream.get("routes") or {}).items()),
        ),
        websocket_paths=tuple(data.get("websocketPaths", ())),
        credential_headers=names("credentialHeaders", lower=True) | frozenset(HTTP_CREDENTIAL_HEADERS),
        credential_fields=names("credentialFields"),
        token_fields=names("tokenFields"),
        callback_fields=names("callbackFields"),
        callback_credential_headers=names("callbackCredentialHeaders", lower=True),
        volatile_fields=names("volatileFields"),
        identity_fields=names("identityFields"),
        enum_fields=names("enumFields"),
        state_fields=names("stateFields"),
        headers=tuple(name.lower() for name in data.get("headers", ("content-type",))),
        drift_settings=dict((data.get("drift") or {}).get("settings", {})),
        drift_headers={name.lower(): value for name, value in ((data.get("drift") or {}).get("headers", {})).items()},
    )


def recordable() -> tuple[str, ...]:
    """Every surface in the registry that has recording rules, in registry order."""
    from ..surfaces import SURFACES

    return tuple(surface for surface in SURFACES if rules_path(surface).is_file())


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of one cassette line (a header or an exchange)."""
    document: dict[str, Any] = json.loads((Path(__file__).parent / "line.json").read_text(encoding="utf-8"))
    return document
