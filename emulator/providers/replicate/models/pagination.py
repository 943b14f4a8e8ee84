"""Lists a page at a time, most recent first, behind opaque cursors in the style of Replicate's Django REST API."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs

from contracts.replicate import rules

from .. import errors

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next: str | None
    previous: str | None


def paginate(items: list[T], position: Callable[[T], int], cursor: str | None) -> Page:
    """The page of `items` (most recent first) a cursor points at; Replicate's 404 for a cursor it never gave."""
    size: int = rules.RULES["pageSize"]
    if cursor is None:
        window, reverse, pivot = items, False, None
    else:
        pivot, reverse = _decode(cursor)
        window = [item for item in items if (position(item) > pivot if reverse else position(item) < pivot)]
    if reverse:
        page = window[-size:]
        has_previous = len(window) > size
        has_next = bool(page) and any(position(item) < position(page[-1]) for item in items)
    else:
        page = window[:size]
        has_next = len(window) > size
        has_previous = bool(page) and any(position(item) > position(page[0]) for item in items)
    return Page(
        page,
        _encode(position(page[-1]), False) if has_next else None,
        _encode(position(page[0]), True) if has_previous else None,
    )


def _encode(position: int, reverse: bool) -> str:
    text = f"r=1&p={position}" if reverse else f"p={position}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, bool]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        fields = parse_qs(text, strict_parsing=True)
        position = int(fields["p"][0])
        reverse = fields.get("r", ["0"])[0] == "1"
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError):
        raise errors.problem("invalidCursor") from None
    return position, reverse
