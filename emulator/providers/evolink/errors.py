"""EvoLink's error body: `{"error": {"code", "message", "type", "param"?, "fallback_suggestion"?}}`.

Two documented generations differ in `code` (the HTTP status as an integer on the Seedream 4.0
pages, a string such as "invalid_request" on the newest pages) and in a few messages; the table of
both lives in `contracts/evolink/rules.json` (`httpErrors`), chosen by the `evolink_error_codes` setting.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from contracts import Violation
from contracts.evolink import rules

CodeStyle = Literal["integer", "string"]
STYLES: tuple[CodeStyle, ...] = ("integer", "string")
PLACEHOLDER = re.compile(r"\{(minLength|maxLength|minimum|maximum|minItems|maxItems|enum|const)\}")


class EvoLinkError(Exception):
    """A situation of the `httpErrors` table, optionally with a detail appended to its documented message."""

    def __init__(self, situation: str, detail: str | None = None, *, param: str | None = None) -> None:
        super().__init__(detail or situation)
        self.situation = situation
        self.detail = detail
        self.param = param
        self.violations: list[Violation] = []

    def spec(self, style: CodeStyle) -> Mapping[str, Any]:
        return rules.RULES["httpErrors"][self.situation][style]

    def status(self, style: CodeStyle) -> int:
        return int(self.spec(style)["status"])

    def body(self, style: CodeStyle) -> dict[str, Any]:
        spec = self.spec(style)
        message = spec["message"] if not self.detail else f"{spec['message']}: {self.detail}"
        error: dict[str, Any] = {
            "code": spec["status"] if style == "integer" else spec["code"],
            "message": message,
            "type": spec["type"],
        }
        param = self.param or spec.get("param")
        if param:
            error["param"] = param
        if "fallback_suggestion" in spec:
            error["fallback_suggestion"] = rules.fill(spec["fallback_suggestion"], rules.reference_limit_values())
        return {"error": error}


def from_violation(violation: Violation) -> EvoLinkError:
    """The error for the first violation of a body: schema keywords carry `x-error`, rules carry a situation."""
    annotation: Mapping[str, Any] = violation.annotation
    if violation.keyword.startswith("rule:"):
        return EvoLinkError(rules.violation_situation(violation), annotation["message"], param=annotation.get("param"))
    param = annotation.get("param") or violation.missing or _param_from_path(violation.path)
    situation = annotation.get("situations", {}).get(violation.keyword, "invalidRequest")
    if violation.keyword == "required":
        return EvoLinkError("invalidRequest", f"'{violation.missing}' is required.", param=violation.missing)
    template = annotation.get("message")
    detail = _fill(template, violation.limits) if template else f"{violation.message}."
    return EvoLinkError(situation, detail, param=param)


def invalid_json(detail: str) -> EvoLinkError:
    return EvoLinkError("invalidRequest", f"the body is not valid JSON ({detail}).")


def not_an_object() -> EvoLinkError:
    return EvoLinkError("invalidRequest", rules.REQUEST["x-error"]["message"])


def _fill(template: str, limits: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = limits.get(match.group(1))
        if found is None:
            return match.group(0)
        return ", ".join(map(str, found)) if isinstance(found, list) else str(found)

    return PLACEHOLDER.sub(value, template)


def _param_from_path(path: str) -> str | None:
    parts = [part for part in path.split("/") if part and not part.isdigit()]
    return parts[0] if parts else None
