"""Reference images a case can name before it knows where the emulator runs.

A case body holds `fixture_url(...)`, an address on a reserved host; the session rewrites it to the emulator's
own `/files/` fixture of that size just before the client sees the request. Providers can download those, so a
case with URL references meets production rules (a public internet URL would only be taken on trust).
"""

from __future__ import annotations

from typing import Any

from contracts.fixtures import PLACEHOLDER, fixture_url

__all__ = ["fixture_url", "resolved"]


def resolved(value: Any, files_base: str) -> Any:
    """`value` with every fixture placeholder pointing at `files_base` (the emulator's root URL)."""
    if isinstance(value, str):
        return (
            files_base.rstrip("/") + "/files/" + value[len(PLACEHOLDER) :] if value.startswith(PLACEHOLDER) else value
        )
    if isinstance(value, list):
        return [resolved(item, files_base) for item in value]
    if isinstance(value, dict):
        return {key: resolved(item, files_base) for key, item in value.items()}
    return value
