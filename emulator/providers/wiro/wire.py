"""Wiro's wire format: request bodies in any of the three encodings Wiro reads, and the reply envelopes.

Every Wiro call is a POST whose body is JSON, multipart or URL-encoded; here each becomes one JSON-like object,
with file parts kept as `Part`s. A Run body is then decoded into what `run.json` validates: `inputImageUrl` and
comma-joined URL strings merge into `inputImage`, numeric strings become numbers, booleans their strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers

from contracts.wiro import rules
from emulator.core.http import MalformedForm, Part, is_form, parse_json, read_form
from emulator.core.images import offload

from . import errors

SURFACE = "wiro"
IMAGE_FIELDS = ("inputImage", "inputImageUrl")
# Far above the 14 inputImage entries Wiro accepts; the contract reports the real limit.
MAX_FILE_PARTS = 64
NUMBER = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
URL_START = re.compile(r"^\s*https?://", re.IGNORECASE)


def describe(part: Part) -> dict[str, Any]:
    """A file part as the contracts see it: Wiro's upload record fields."""
    return {"filename": part.filename, "contenttype": part.content_type, "size": len(part.data)}


@dataclass
class RunRequest:
    """A decoded Run body: `instance` is what `run.json` validates; `images` holds the inputImage entries."""

    instance: dict[str, Any]
    images: list[Any]


async def fields(headers: Headers, raw: bytes) -> dict[str, Any]:
    """A bounded body as a JSON-like object, whatever its encoding; Wiro's invalid-parameters error otherwise."""
    if is_form(headers):
        return form_fields(await form(headers, raw))
    if not raw.strip():
        return {}
    try:
        body = await offload(parse_json, raw, size=len(raw))
    except ValueError:
        raise errors.parameters_invalid() from None
    if not isinstance(body, dict):
        raise errors.parameters_invalid()
    return body


async def form(headers: Headers, raw: bytes) -> list[tuple[str, str | Part]]:
    """The fields of a multipart or URL-encoded body already read (and bounded) by the seam."""
    try:
        return await read_form(headers, raw, max_files=MAX_FILE_PARTS, max_part_size=rules.UPLOAD_MAX_BYTES)
    except MalformedForm:
        raise errors.parameters_invalid() from None


def form_fields(pairs: Iterable[tuple[str, str | Part]]) -> dict[str, Any]:
    """Multipart / URL-encoded fields as a JSON-like body: image fields collect every value, others keep the last."""
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in IMAGE_FIELDS:
            found.setdefault(name, []).append(value)
        else:
            found[name] = value
    return found


def plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with file parts replaced by their description, as the contracts see them."""
    return {key: describe(value) if isinstance(value, Part) else value for key, value in body.items()}


def decode_run(body: Mapping[str, Any]) -> RunRequest:
    instance = plain({key: value for key, value in body.items() if key not in IMAGE_FIELDS and value is not None})
    entries: list[Any] = []
    for name in IMAGE_FIELDS:
        if body.get(name) is not None:
            entries += _image_entries(body[name])
    if entries:
        instance["inputImage"] = [describe(entry) if isinstance(entry, Part) else entry for entry in entries]
    if isinstance(instance.get("maxImages"), str):
        if instance["maxImages"].strip() == "":
            del instance["maxImages"]
        elif NUMBER.match(instance["maxImages"]):
            instance["maxImages"] = _number(instance["maxImages"])
    if isinstance(instance.get("watermark"), bool):
        instance["watermark"] = "true" if instance["watermark"] else "false"
    return RunRequest(instance, entries)


def _image_entries(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    entries: list[Any] = []
    for item in values:
        if isinstance(item, str):
            entries += _split_urls(item)
        else:
            entries.append(item)
    return entries


def _split_urls(text: str) -> list[str]:
    """One URL, or several joined by commas; a comma inside a URL stays when the next piece is not a URL."""
    pieces = [piece.strip() for piece in text.split(",")]
    if len(pieces) > 1 and all(URL_START.match(piece) for piece in pieces if piece):
        return [piece for piece in pieces if piece]
    return [text.strip()] if text.strip() else []


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def stamp(moment: float | None) -> str:
    """A time as Wiro writes it: whole unix seconds in a string, "0" for never."""
    return "0" if moment is None else str(int(moment))


def run_reply(taskid: str, token: str) -> dict[str, Any]:
    return {"errors": [], "taskid": taskid, "socketaccesstoken": token, "result": True}


def detail_reply(record: dict[str, Any]) -> dict[str, Any]:
    return {"total": "1", "errors": [], "tasklist": [record], "result": True}


def action_reply(record: dict[str, Any]) -> dict[str, Any]:
    return {"errors": [], "tasklist": [record], "result": True}


def list_reply(item: dict[str, Any]) -> dict[str, Any]:
    return {"result": True, "errors": [], "list": [item]}


def socket_error(message: str) -> dict[str, Any]:
    return {"type": "error", "message": message, "result": False}
