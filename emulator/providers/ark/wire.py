"""Ark's stream framing: Server-Sent Events whose `event:` line repeats the data's `type`, then `data: [DONE]`."""

from __future__ import annotations

from typing import Any

from contracts.ark import rules
from emulator.core.http import dumps

STREAM = rules.RULES["stream"]
EVENTS = STREAM["events"]
MEDIA_TYPE = "text/event-stream"
DONE = f"data: {STREAM['terminator']}\n\n".encode()
HEADERS = {"Cache-Control": "no-cache"}


def event(payload: dict[str, Any]) -> bytes:
    """One event: its type on the `event:` line and the JSON object (one line) as its data."""
    return b"event: " + str(payload["type"]).encode() + b"\ndata: " + dumps(payload) + b"\n\n"
