"""Wiro's error shape: `{"result": false, "errors": [{"code": <int>, "message": "..."}]}`.

Codes, messages and HTTP statuses live in `contracts/wiro/rules.json` (`errors`) and in the schemas'
`x-error` annotations; this module only fills them in. Wiro answers most refusals with HTTP 200 and
`result: false`; only authentication, unknown URLs and the emulator's own limits use other statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from contracts import Violation, fill
from contracts.wiro import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded
from emulator.core.limits import Limited
from emulator.core.seam import json_reply, retry_after

# Which violation a client hears about when a request breaks several rules: missing values first.
PRIORITY = {"required": 0, "minLength": 1}


class WiroError(Exception):
    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.violations: list[Violation] = []
        self.retry_after: float | None = None

    def headers(self) -> dict[str, str]:
        return {"Retry-After": retry_after(self.retry_after)} if self.retry_after is not None else {}

    def body(self) -> dict[str, Any]:
        return {"result": False, "errors": [{"code": self.code, "message": self.message}]}


class Errors:
    """Wiro's answers to what the core seam detects."""

    kind = WiroError

    def reply(self, error: WiroError) -> Response:
        return json_reply(error.body(), error.status, error.headers())

    def internal(self, route: str) -> WiroError:
        return named("internal")

    def not_found(self, method: str, path: str) -> WiroError:
        return named("urlNotParsed")

    def body_too_large(self, limit: int) -> WiroError:
        return named("bodyTooLarge", limit=limit)

    def malformed(self, detail: str) -> WiroError:
        return parameters_invalid()

    def injected(self, rule: Rule) -> WiroError:
        return injected(rule)

    def limited(self, refusal: Overloaded) -> WiroError:
        return limited(refusal)


def named(rule: str, **values: Any) -> WiroError:
    entry = rules.ERRORS[rule]
    return WiroError(int(entry["code"]), rules.message(rule, **values), int(entry["status"]))


def check(schema: str, instance: Any) -> None:
    """Refuse an instance that breaks its contract (and, for a Run, the cross-field rules)."""
    validator = rules.CONTRACT.validator(schema)
    if validator.is_valid(instance):
        found = rules.check(instance) if schema == rules.REQUEST_SCHEMA else []
    else:
        found = validator.violations(instance)
    if found:
        raise from_violations(found)


def from_violations(found: list[Violation]) -> WiroError:
    ordered = sorted(found, key=lambda violation: PRIORITY.get(violation.keyword, 2))
    error = from_violation(ordered[0])
    error.violations = found
    return error


def from_violation(violation: Violation) -> WiroError:
    annotation: Mapping[str, Any] = violation.annotation
    messages: Mapping[str, str] = annotation.get("messages", {})
    template = (
        messages.get(violation.keyword) or annotation.get("message") or rules.ERRORS["parametersInvalid"]["message"]
    )
    code = int(annotation.get("code", rules.ERRORS["parametersInvalid"]["code"]))
    return WiroError(code, fill(template, violation.limits))


def parameters_invalid(path: str = "", detail: str | None = None) -> WiroError:
    """Wiro's generic answer; `detail` (what exactly is wrong) goes to the journal only."""
    error = named("parametersInvalid")
    if detail is not None:
        error.violations = [Violation(path, detail, "emulator")]
    return error


def kill_failed(reason: str) -> WiroError:
    return named("killFailed", reason=rules.RULES["killReasons"][reason])


def file_too_large(name: str) -> WiroError:
    return named("fileTooLarge", name=name, maxBytes=rules.UPLOAD_MAX_BYTES)


def injected(rule: Rule) -> WiroError:
    """The HTTP error a fault rule asks for, in Wiro's envelope."""
    messages = rules.RULES["injectedErrors"]
    code = int(rule.code) if rule.code and rule.code.isdigit() else 0
    error = WiroError(code, rule.message or messages.get(str(rule.status), messages["default"]), rule.status)
    error.retry_after = rule.retry_after
    return error


def limited(reason: Overloaded) -> WiroError:
    """A key over its concurrency limit gets Wiro's code 96; rate limits and a full emulator get a 429."""
    if isinstance(reason, Limited) and reason.concurrency is not None:
        error = named("concurrencyLimit", balance="0.00", maxConcurrent=reason.concurrency)
    else:
        error = named("rateLimited")
    error.retry_after = reason.retry_after
    return error


def note(key: str, /, **values: Any) -> str:
    """A journal text (a violation's detail, a note): what the emulator tells the journal, never the client."""
    return str(fill(rules.RULES["journal"][key], values))
