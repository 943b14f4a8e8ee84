"""Runware's wire format: a JSON array of tasks in; `{"data": [...]}` and `{"errors": [...]}` out, as one REST
body or as socket frames that never mix the two."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from emulator.core.seam import json_reply

from . import errors
from .errors import RunwareError
from .models import CONTRACT, Answer, Reply

MAX_TASKS: int = CONTRACT.schema("request")["maxItems"]


def tasks(body: Any) -> list[Any]:
    """The tasks of a request body or frame: a JSON array of 1 to MAX_TASKS items."""
    if isinstance(body, list) and 1 <= len(body) <= MAX_TASKS:
        return body
    error = errors.invalid_body()
    error.violations = CONTRACT.validator("request").violations(
        body[: MAX_TASKS + 1] if isinstance(body, list) else body
    )
    raise error


def api_key(tasks: list[Any], bearer: str | None) -> object:
    """The key a request authenticates with: its authentication task's apiKey, else the Bearer token."""
    for task in tasks:
        if isinstance(task, dict) and task.get("taskType") == "authentication":
            return task.get("apiKey")
    return bearer


def response(reply: Reply) -> Response:
    body: dict[str, Any] = {}
    if reply.data or not reply.errors:
        body["data"] = reply.data
    if reply.errors:
        body["errors"] = [error.item() for error in reply.errors]
    return json_reply(body, reply.status, errors.headers(reply.status, reply.errors) if reply.errors else None)


def frames(answer: Answer) -> list[dict[str, Any]]:
    """A task's answer over a socket: its items in one frame, its errors in another."""
    found: list[dict[str, Any]] = [{"data": list(answer.data)}] if answer.data else []
    return [*found, refusal(*answer.errors)] if answer.errors else found


def refusal(*found: RunwareError) -> dict[str, Any]:
    """A frame of error items."""
    return {"errors": [error.item() for error in found]}
