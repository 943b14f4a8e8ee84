"""Replicate's wire: headers and query parameters read, multipart uploads decoded, pages and the web page written."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request

from contracts.replicate import rules
from emulator.core.http import MalformedForm, Part, parse_json, read_form

from . import errors
from .models import Page

# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_OVERHEAD = 1024 * 1024
# The size of a form's text parts (filename, type, metadata), as Starlette's own form reading bounds them.
FIELD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A files API upload as sent: the file, and the optional `filename`, `type` and `metadata` parts."""

    data: bytes
    filename: str
    content_type: str | None
    metadata: dict[str, Any]


def upload_limit() -> int:
    """The largest files API body read: a file of the largest allowed size and its multipart framing."""
    limit: int = rules.RULES["files"]["maxBytes"] + MULTIPART_OVERHEAD
    return limit


def cancel_after(header: str | None) -> float | None:
    """Seconds from a `Cancel-After` header; Replicate's 400 when it is not a duration it accepts."""
    if header is None:
        return None
    try:
        return rules.parse_cancel_after(header)
    except ValueError:
        raise errors.invalid_cancel_after(header[:100]) from None


def instant(query: Mapping[str, str], name: str) -> float | None:
    """A `created_after`/`created_before` filter: an ISO 8601 date-time (UTC when it names no zone)."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.problem("invalidQuery", parameter=name, value=raw[:100]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def page_body(page: Page, url: str, query: Mapping[str, str]) -> dict[str, Any]:
    """A page of a list: `next` and `previous` link to `url` with the same filters and the page's cursor."""
    kept = [(key, value) for key, value in query.items() if key != "cursor"]

    def link(cursor: str | None) -> str | None:
        return None if cursor is None else f"{url}?{urlencode([*kept, ('cursor', cursor)])}"

    return {"next": link(page.next), "previous": link(page.previous), "results": page.items}


def web_page(prediction: Mapping[str, Any]) -> str:
    """`urls.web`: a minimal page in place of replicate.com/p/{id}, from the prediction's JSON."""
    prediction_id = prediction["id"]
    outputs = prediction["output"] or []
    items = "".join(f'<li><a href="{html.escape(url)}">{html.escape(url)}</a></li>' for url in outputs)
    return (
        f"<!doctype html><title>Prediction {prediction_id}</title><h1>Prediction {prediction_id}</h1>"
        f"<p>{html.escape(rules.MODEL_REF)} &middot; <strong>{html.escape(prediction['status'])}</strong></p>"
        f"<p>{html.escape(str(prediction['input'].get('prompt', '')))}</p><ul>{items}</ul>"
        f"<pre>{html.escape(prediction.get('logs') or '')}</pre>"
    )


def attachment(name: str) -> dict[str, str]:
    """The headers of a file download."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"}


def is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def upload(request: Request, raw: bytes) -> Upload:
    """The parts of a multipart upload body already read (and bounded) by the seam."""
    try:
        pairs = await read_form(request.headers, raw, max_files=4, max_fields=16, max_part_size=FIELD_BYTES)
    except MalformedForm as exc:
        raise errors.invalid_upload("unreadable", detail=str(exc)) from None
    form = dict(pairs)  # a repeated part: the last one counts, as Starlette's FormData.get gives it
    content = form.get("content")
    if not isinstance(content, Part):
        raise errors.invalid_upload("noContent")
    filename = _text(form, "filename") or content.filename or "file"
    content_type = _text(form, "type") or content.content_type
    return Upload(content.data, filename, content_type, _metadata(_text(form, "metadata")))


def _text(form: Mapping[str, str | Part], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value else None


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = parse_json(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise errors.invalid_upload("metadata")
    return value
