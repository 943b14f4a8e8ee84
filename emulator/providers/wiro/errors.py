"""Wiro's error shape: `{"result": false, "errors": [{"code": <int>, "message": "..."}]}`.

Codes, messages and HTTP statuses live in `contracts/wiro/rules.json` (`errors`) and in the schemas'
`x-error` annotations; this module only fills them in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from contracts import Violation, fill
from contracts.wiro import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded
from emulator.core.limits import Limited

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
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))} if self.retry_after is not None else {}

    def body(self) -> dict[str, Any]:
        return {"result": False, "errors": [{"code": self.code, "message": self.message}]}


def named(rule: str, **values: Any) -> WiroError:
    entry = rules.ERRORS[rule]
    return WiroError(int(entry["code"]), rules.message(rule, **values), int(entry["status"]))


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


def project_not_found() -> WiroError:
    return named("projectNotFound")


def signature_required() -> WiroError:
    return named("signatureRequired")


def signature_invalid() -> WiroError:
    return named("signatureInvalid")


def url_not_parsed() -> WiroError:
    return named("urlNotParsed")


def parameters_invalid(path: str = "", detail: str | None = None) -> WiroError:
    """Wiro's generic answer; `detail` (what exactly is wrong) goes to the journal only."""
    error = named("parametersInvalid")
    if detail is not None:
        error.violations = [Violation(path, detail, "emulator")]
    return error


def model_not_found() -> WiroError:
    return named("modelNotFound")


def task_not_found() -> WiroError:
    return named("taskNotFound")


def identifier_required() -> WiroError:
    return named("taskIdentifierRequired")


def permission_denied() -> WiroError:
    return named("permissionDenied")


def kill_failed(reason: str) -> WiroError:
    return named("killFailed", reason=rules.RULES["killReasons"][reason])


def not_cancellable() -> WiroError:
    return named("notCancellable")


def folder_not_found() -> WiroError:
    return named("folderNotFound")


def file_too_large(name: str) -> WiroError:
    return named("fileTooLarge", name=name, maxBytes=rules.UPLOAD_MAX_BYTES)


def storage_full() -> WiroError:
    return named("storageFull")


def body_too_large(limit: int) -> WiroError:
    return named("bodyTooLarge", limit=limit)


def internal() -> WiroError:
    return named("internal")


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
