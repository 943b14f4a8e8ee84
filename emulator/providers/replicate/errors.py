"""Replicate's error shape: RFC 7807 `application/problem+json` (`title`, `detail`, `status`, extensions).

Every title and detail lives in `contracts/replicate/rules.json` (`errors`, `validation`, `uploadErrors`,
`injectedErrors`); this module fills them in and answers for the core seam.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from contracts import Violation
from contracts.replicate import rules
from emulator.core.faults import Rule
from emulator.core.http import dumps
from emulator.core.jobs import Overloaded
from emulator.core.seam import retry_after

PROBLEM_JSON = "application/problem+json"


class ReplicateError(Exception):
    def __init__(self, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(str(body.get("detail", "")))
        self.body = dict(body)
        self.status = int(body["status"])
        self.headers = dict(headers or {})
        self.violations: list[Violation] = []


class Errors:
    """Replicate's answers to what the core seam detects."""

    kind = ReplicateError

    def reply(self, error: ReplicateError) -> Response:
        return Response(dumps(error.body), status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers)

    def internal(self, route: str) -> ReplicateError:
        return problem("internal")

    def not_found(self, method: str, path: str) -> ReplicateError:
        return problem("notFound")

    def body_too_large(self, limit: int) -> ReplicateError:
        return problem("bodyTooLarge", limit=limit)

    def malformed(self, detail: str) -> ReplicateError:
        return problem("invalidJson", reason=detail)

    def injected(self, rule: Rule) -> ReplicateError:
        return injected(rule)

    def limited(self, refusal: Overloaded) -> ReplicateError:
        return throttled(refusal.retry_after)


class UploadErrors(Errors):
    """The files API: a body over the upload limit is Replicate's file-size error."""

    def body_too_large(self, limit: int) -> ReplicateError:
        return file_too_large()


def problem(name: str, **values: Any) -> ReplicateError:
    """The error `name` of rules.json `errors`, placeholders filled."""
    return ReplicateError(rules.error(name, **values))


def invalid_upload(reason: str, **values: Any) -> ReplicateError:
    """400 for a files API upload; `reason` names its text in rules.json `uploadErrors`."""
    return problem("invalidUpload", reason=rules.RULES["uploadErrors"][reason].format(**values))


def validation(found: Sequence[Violation]) -> ReplicateError:
    """422 `Input validation failed`: one `- field: description` line per problem, and `invalid_fields`."""
    settings = rules.VALIDATION
    error = ReplicateError(
        {
            "detail": "".join(rules.line(violation) for violation in found),
            "status": settings["status"],
            "title": settings["title"],
            "invalid_fields": [rules.invalid_field(violation) for violation in found],
        }
    )
    error.violations = list(found)
    return error


def method_not_allowed(method: str, allowed: Sequence[str]) -> ReplicateError:
    error = problem("methodNotAllowed", method=method)
    error.headers["Allow"] = ", ".join(allowed)
    return error


def invalid_cancel_after(value: str) -> ReplicateError:
    bounds = rules.RULES["cancelAfter"]
    return problem(
        "invalidCancelAfter", minimum=bounds["minimumSeconds"], maximum=bounds["maximumSeconds"], value=value
    )


def file_too_large() -> ReplicateError:
    return problem("fileTooLarge", megabytes=rules.RULES["files"]["maxBytes"] // 2**20)


def throttled(seconds: float) -> ReplicateError:
    """429 as Replicate sends it: the body's `retry_after` and an integer `Retry-After` (the client parses only digits)."""
    header = retry_after(seconds)
    error = problem("throttled", seconds=header)
    error.body["retry_after"] = int(header)
    error.headers["Retry-After"] = header
    return error


def injected(rule: Rule) -> ReplicateError:
    """The HTTP error a fault rule asks for, as problem+json."""
    if rule.status == 429 and rule.message is None:
        return throttled(rule.retry_after or 1)
    titles = rules.RULES["injectedErrors"]
    title = titles.get(str(rule.status), titles["default"])
    body: dict[str, Any] = {"title": title, "detail": rule.message or title, "status": rule.status}
    if rule.code:
        body["code"] = rule.code
    error = ReplicateError(body)
    if rule.retry_after is not None:
        error.headers["Retry-After"] = retry_after(rule.retry_after)
    return error
