"""Ark's error body: `{"error": {"code", "message", "param", "type"}}`, with the documented codes, types and HTTP
statuses (`contracts/ark/rules.json`, `httpErrors`). Every message ends with the request's ID, as Ark's do."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from contracts import Violation, fill
from contracts.ark import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded
from emulator.core.limits import Limited
from emulator.core.seam import json_reply, retry_after

HTTP_ERRORS: Mapping[str, Mapping[str, Any]] = rules.RULES["httpErrors"]
DETAILS: Mapping[str, str] = rules.RULES["httpErrorDetails"]


class ArkError(Exception):
    """A situation of the `httpErrors` table; `values` fill its message template ({param}, {detail}, {model}...)."""

    def __init__(self, situation: str, *, param: str = "", **values: Any) -> None:
        super().__init__(situation)
        self.situation = situation
        self.param = param
        self.values = values
        self.request_id: str | None = None
        self.violations: list[Violation] = []
        self.retry_after: float | None = None
        self.status_override: int | None = None
        self.code_override: str | None = None
        self.message_override: str | None = None

    @property
    def spec(self) -> Mapping[str, Any]:
        return HTTP_ERRORS[self.situation]

    @property
    def status(self) -> int:
        return self.status_override or int(self.spec["status"])

    def body(self, request_id: str) -> dict[str, Any]:
        spec = self.spec
        values = {"param": self.param, "detail": "", "model": "", "method": "", "path": "", **self.values}
        # What the emulator can say beyond the documented sentence (why the body was refused), before the ID.
        values["more"] = f" {values['detail']}" if values["detail"] else ""
        message = self.message_override or fill(spec["message"], {**values, "id": request_id})
        return {
            "error": {
                "code": self.code_override or spec["code"],
                "message": message,
                "param": self.param,
                "type": spec["type"],
            }
        }

    def headers(self) -> dict[str, str]:
        return {"Retry-After": retry_after(self.retry_after)} if self.retry_after is not None else {}


class Errors:
    """Ark's answers to what the core seam detects. `new_id` names a request refused before it had an ID."""

    kind = ArkError

    def __init__(self, new_id: Callable[[], str]) -> None:
        self.new_id = new_id

    def reply(self, error: ArkError) -> Response:
        request_id = error.request_id or self.new_id()
        return json_reply(error.body(request_id), error.status, error.headers())

    def internal(self, route: str) -> ArkError:
        return ArkError("internal")

    def not_found(self, method: str, path: str) -> ArkError:
        return ArkError("notFound", method=method, path=path)

    def body_too_large(self, limit: int) -> ArkError:
        return ArkError("invalidRequest", detail=fill(DETAILS["bodyTooLarge"], {"limit": limit}))

    def malformed(self, detail: str) -> ArkError:
        return ArkError("invalidRequest", detail=fill(DETAILS["malformed"], {"detail": detail}))

    def injected(self, rule: Rule) -> ArkError:
        return injected(rule)

    def limited(self, refusal: Overloaded) -> ArkError:
        return rate_limited(refusal)


def method_not_allowed(method: str, path: str) -> ArkError:
    return ArkError("methodNotAllowed", method=method, path=path)


def from_violation(violation: Violation) -> ArkError:
    """The error for the first violation of a body: a missing field is MissingParameter, a rule names its situation,
    any other schema violation is InvalidParameter for the field it concerns."""
    annotation: Mapping[str, Any] = violation.annotation
    if violation.keyword == "required":
        return _with(ArkError("missingParameter", param=violation.missing or ""), violation)
    if violation.keyword.startswith("rule:"):
        situation = rules.violation_situation(violation)
        values = {"model": annotation["message"]} if situation == "modelNotFound" else {"detail": annotation["message"]}
        return _with(ArkError(situation, param=str(annotation.get("param", "")), **values), violation)
    param = str(annotation.get("param") or _param_from_path(violation.path))
    template = annotation.get("message")
    detail = fill(template, violation.limits) if template else f"{violation.message}."
    return _with(ArkError("invalidParameter", param=param, detail=detail), violation)


def not_an_object(found: list[Violation]) -> ArkError:
    error = ArkError("invalidRequest")
    error.violations = found
    return error


def injected(rule: Rule) -> ArkError:
    """The HTTP error a fault rule asks for, in Ark's shape for that status (for a status Ark documents no body
    for, the generic one of its class)."""
    situations = rules.RULES["injectedErrors"]
    error = ArkError(situations.get(str(rule.status)) or situations["5xx" if rule.status >= 500 else "4xx"])
    error.status_override = rule.status
    error.code_override = rule.code
    error.message_override = rule.message
    error.retry_after = rule.retry_after
    return error


def rate_limited(reason: Overloaded) -> ArkError:
    """A key over its limits is Ark's RPM refusal; the emulator out of room for jobs is Ark's overloaded service."""
    error = ArkError("rateLimited" if isinstance(reason, Limited) else "overloaded")
    error.retry_after = reason.retry_after
    return error


def _with(error: ArkError, violation: Violation) -> ArkError:
    error.violations = [violation]
    return error


def _param_from_path(path: str) -> str:
    parts = [part for part in path.split("/") if part and not part.isdigit()]
    return ".".join(parts)
