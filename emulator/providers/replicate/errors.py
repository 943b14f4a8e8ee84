"""Replicate's error shape: RFC 7807 `application/problem+json` (`title`, `detail`, `status`, extensions)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from contracts.replicate import rules
from contracts.replicate.rules import InvalidField
from emulator.core.faults import Rule
from emulator.core.http import dumps

PROBLEM_JSON = "application/problem+json"


class ReplicateProblem(Exception):
    def __init__(self, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(body.get("detail", "")))
        self.body = dict(body)
        self.status = int(body["status"])
        self.headers = dict(headers or {})
        self.invalid: list[InvalidField] = []

    def response(self) -> Response:
        return Response(dumps(self.body), status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers)


def problem(name: str, **values: Any) -> ReplicateProblem:
    return ReplicateProblem(rules.error(name, **values))


def validation(fields: Sequence[InvalidField]) -> ReplicateProblem:
    """422 `Input validation failed`: one `- field: description` line per problem, and `invalid_fields`."""
    settings = rules.VALIDATION
    error = ReplicateProblem(
        {
            "detail": "".join(field.line() for field in fields),
            "status": settings["status"],
            "title": settings["title"],
            "invalid_fields": [field.as_dict() for field in fields],
        }
    )
    error.invalid = list(fields)
    return error


def unauthenticated() -> ReplicateProblem:
    return problem("unauthenticated")


def not_found() -> ReplicateProblem:
    return problem("notFound")


def file_not_found() -> ReplicateProblem:
    return problem("fileNotFound")


def invalid_cursor() -> ReplicateProblem:
    return problem("invalidCursor")


def method_not_allowed(method: str, allowed: Sequence[str]) -> ReplicateProblem:
    error = problem("methodNotAllowed", method=method)
    error.headers["Allow"] = ", ".join(allowed)
    return error


def invalid_version() -> ReplicateProblem:
    return problem("invalidVersion")


def invalid_cancel_after(value: str) -> ReplicateProblem:
    return problem("invalidCancelAfter", minimum=rules.RULES["cancelAfter"]["minimumSeconds"], value=value)


def invalid_json(reason: str) -> ReplicateProblem:
    return problem("invalidJson", reason=reason)


def invalid_query(parameter: str, value: str) -> ReplicateProblem:
    return problem("invalidQuery", parameter=parameter, value=value)


def invalid_upload(reason: str) -> ReplicateProblem:
    return problem("invalidUpload", reason=reason)


def file_too_large() -> ReplicateProblem:
    return problem("fileTooLarge", megabytes=rules.RULES["files"]["maxBytes"] // 2**20)


def body_too_large(limit: int) -> ReplicateProblem:
    return problem("bodyTooLarge", limit=limit)


def storage_full(limit: int) -> ReplicateProblem:
    return problem("storageFull", limit=limit)


def throttled(retry_after: float) -> ReplicateProblem:
    """429 as Replicate sends it: the body's `retry_after` and an integer `Retry-After` (the client parses only digits)."""
    seconds = max(1, math.ceil(retry_after))
    error = problem("throttled", seconds=seconds)
    error.body["retry_after"] = seconds
    error.headers["Retry-After"] = str(seconds)
    return error


def injected(rule: Rule) -> ReplicateProblem:
    """The HTTP error a fault rule asks for, as problem+json."""
    if rule.status == 429 and rule.message is None:
        return throttled(rule.retry_after or 1)
    titles = rules.RULES["injectedErrors"]
    title = titles.get(str(rule.status), titles["default"])
    body: dict[str, Any] = {"title": title, "detail": rule.message or title, "status": rule.status}
    if rule.code:
        body["code"] = rule.code
    error = ReplicateProblem(body)
    if rule.retry_after is not None:
        error.headers["Retry-After"] = str(max(1, math.ceil(rule.retry_after)))
    return error


def internal() -> ReplicateProblem:
    return problem("internal")
