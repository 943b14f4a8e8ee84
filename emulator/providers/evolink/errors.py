"""EvoLink's error body: `{"error": {"code", "message", "type", "param"?, "fallback_suggestion"?}}`.

Two documented generations differ in `code` (the HTTP status as an integer on the Seedream 4.0
pages, a string such as "invalid_request" on the newest pages) and in a few messages; the table of
both lives in `contracts/evolink/rules.json` (`httpErrors`), chosen by the `evolink_error_codes` setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from starlette.responses import Response

from contracts import Violation, fill
from contracts.evolink import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded
from emulator.core.seam import json_reply, retry_after

CodeStyle = Literal["integer", "string"]
DETAILS: Mapping[str, str] = rules.RULES["httpErrorDetails"]


class EvoLinkError(Exception):
    """A situation of the `httpErrors` table, optionally with a detail appended to its documented message."""

    def __init__(self, situation: str, detail: str | None = None, *, param: str | None = None) -> None:
        super().__init__(detail or situation)
        self.situation = situation
        self.detail = detail
        self.param = param
        self.violations: list[Violation] = []
        self.retry_after: float | None = None
        self.status_override: int | None = None
        self.code_override: str | None = None
        self.message_override: str | None = None

    def spec(self, style: CodeStyle) -> Mapping[str, Any]:
        spec: Mapping[str, Any] = rules.RULES["httpErrors"][self.situation][style]
        return spec

    def status(self, style: CodeStyle) -> int:
        return self.status_override or int(self.spec(style)["status"])

    def headers(self) -> dict[str, str]:
        return {"Retry-After": retry_after(self.retry_after)} if self.retry_after is not None else {}

    def body(self, style: CodeStyle) -> dict[str, Any]:
        spec = self.spec(style)
        message = spec["message"] if not self.detail else f"{spec['message']}: {self.detail}"
        code: int | str = self.status(style) if style == "integer" else spec["code"]
        error: dict[str, Any] = {
            "code": self.code_override or code,
            "message": self.message_override or message,
            "type": spec["type"],
        }
        param = self.param or spec.get("param")
        if param:
            error["param"] = param
        if "fallback_suggestion" in spec:
            error["fallback_suggestion"] = fill(spec["fallback_suggestion"], rules.reference_limit_values())
        return {"error": error}


class Errors:
    """EvoLink's answers to what the core seam detects, in the configured code style."""

    kind = EvoLinkError

    def __init__(self, style: CodeStyle) -> None:
        self.style = style

    def reply(self, error: EvoLinkError) -> Response:
        return json_reply(error.body(self.style), error.status(self.style), error.headers())

    def internal(self, route: str) -> EvoLinkError:
        return EvoLinkError("internalQuery" if route.startswith("GET") else "internal")

    def not_found(self, method: str, path: str) -> EvoLinkError:
        return EvoLinkError("notFound", fill(DETAILS["notFound"], {"method": method, "path": path}))

    def body_too_large(self, limit: int) -> EvoLinkError:
        return EvoLinkError("bodyTooLarge", fill(DETAILS["bodyTooLarge"], {"limit": limit}))

    def malformed(self, detail: str) -> EvoLinkError:
        return EvoLinkError("invalidRequest", fill(DETAILS["malformed"], {"detail": detail}))

    def injected(self, rule: Rule) -> EvoLinkError:
        return injected(rule)

    def limited(self, refusal: Overloaded) -> EvoLinkError:
        return rate_limited(refusal)


def method_not_allowed(method: str, path: str) -> EvoLinkError:
    return EvoLinkError("methodNotAllowed", fill(DETAILS["methodNotAllowed"], {"method": method, "path": path}))


def from_violation(violation: Violation) -> EvoLinkError:
    """The error for the first violation of a body: schema keywords carry `x-error`, rules carry a situation."""
    annotation: Mapping[str, Any] = violation.annotation
    if violation.keyword.startswith("rule:"):
        return EvoLinkError(rules.violation_situation(violation), annotation["message"], param=annotation.get("param"))
    param = annotation.get("param") or violation.missing or _param_from_path(violation.path)
    situation = annotation.get("situations", {}).get(violation.keyword, "invalidRequest")
    if violation.keyword == "required":
        detail = fill(DETAILS["required"], {"field": violation.missing})
        return EvoLinkError("invalidRequest", detail, param=violation.missing)
    template = annotation.get("message")
    detail = fill(template, violation.limits) if template else f"{violation.message}."
    return EvoLinkError(situation, detail, param=param)


def injected(rule: Rule) -> EvoLinkError:
    """The HTTP error a fault rule asks for, in EvoLink's shape for that status (for a status EvoLink documents no
    body for, the generic one of its class)."""
    situations = rules.RULES["injectedErrors"]
    error = EvoLinkError(situations.get(str(rule.status)) or situations["5xx" if rule.status >= 500 else "4xx"])
    error.status_override = rule.status
    error.code_override = rule.code
    error.message_override = rule.message
    error.retry_after = rule.retry_after
    return error


def rate_limited(reason: Overloaded) -> EvoLinkError:
    error = EvoLinkError("rateLimited", str(reason))
    error.retry_after = reason.retry_after
    return error


def not_an_object() -> EvoLinkError:
    return EvoLinkError("invalidRequest", rules.REQUEST["x-error"]["message"])


def _param_from_path(path: str) -> str | None:
    parts = [part for part in path.split("/") if part and not part.isdigit()]
    return parts[0] if parts else None
