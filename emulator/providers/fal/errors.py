"""fal's two error bodies: model errors `{"detail": [{loc, msg, type, url, ctx?}]}` (422 validation) and request
errors `{"detail": "...", "error_type": "..."}` with the same type in `X-Fal-Error-Type` (contracts/fal rules.json)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from contracts import Violation, fill
from contracts.fal import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded
from emulator.core.seam import json_reply, retry_after

REQUEST_ERRORS: Mapping[str, Mapping[str, Any]] = rules.RULES["requestErrors"]
TYPES: Mapping[str, str] = rules.RULES["validationTypes"]


class FalError(Exception):
    """A reply fal gives instead of a result: its status, its body and its headers."""

    def __init__(self, status: int, body: Any, *, error_type: str | None = None) -> None:
        super().__init__(str(body.get("detail") if isinstance(body, dict) else body))
        self.status = status
        self.body = body
        self.error_type = error_type
        self.violations: list[Violation] = []
        self.retry_after: float | None = None

    def headers(self) -> dict[str, str]:
        headers = {"X-Fal-Error-Type": self.error_type} if self.error_type else {}
        if self.retry_after is not None:
            headers["Retry-After"] = retry_after(self.retry_after)
        return headers


def request_error(situation: str, **values: Any) -> FalError:
    spec = REQUEST_ERRORS[situation]
    detail = fill(spec["detail"], values)
    return FalError(spec["status"], {"detail": detail, "error_type": spec["type"]}, error_type=spec["type"])


def model_error(status: int, items: list[dict[str, Any]]) -> FalError:
    return FalError(status, {"detail": items})


def item(loc: list[str | int], msg: str, kind: str, ctx: Mapping[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"loc": loc, "msg": msg, "type": kind, "url": rules.RULES["urlDocs"] + kind}
    if ctx:
        found["ctx"] = dict(ctx)
    return found


def validation(found: list[Violation]) -> FalError:
    """The 422 for every violation of an input, each located under `body` as fal's (pydantic) validation does."""
    error = model_error(422, [_item(violation) for violation in found])
    error.violations = found
    return error


def _item(violation: Violation) -> dict[str, Any]:
    annotation = violation.annotation
    if violation.keyword.startswith("rule:"):
        return item(["body", *annotation["loc"]], annotation["message"], annotation["type"], annotation.get("ctx"))
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in violation.path.strip("/").split("/") if p]
    if violation.keyword == "required":
        return item(["body", *parts, violation.missing or ""], "Field required", TYPES["required"])
    if violation.keyword == "type":
        expected = violation.details.get("types") or []
        name = expected[0] if isinstance(expected, list) and expected else str(expected or "object")
        kind = TYPES.get(str(name), f"{name}_type")
    else:
        kind = TYPES.get(violation.keyword, "value_error")
    template = annotation.get("message")
    msg = fill(template, violation.limits) if template else violation.message
    return item(
        ["body", *parts], msg, kind, {key: value for key, value in violation.limits.items() if key != "pattern"}
    )


def malformed(detail: str) -> FalError:
    """A body that is not JSON: the 422 FastAPI gives (fal's apps are FastAPI apps)."""
    return model_error(422, [item(["body", 0], f"JSON decode error: {detail}", "json_invalid")])


def job_error(kind: str, message: str = "") -> FalError:
    """The result of a request that ended badly: cancelled, refused by the content checker, or failed."""
    table: Mapping[str, Mapping[str, Any]] = rules.RULES["jobErrors"]
    spec = table.get(kind) or next((spec for spec in table.values() if spec["type"] == kind), table["other"])
    detail = fill(spec["detail"], {"message": message or kind})
    if kind == "content_policy":
        return model_error(spec["status"], [item(["body", "prompt"], detail, spec["type"])])
    return FalError(spec["status"], {"detail": detail, "error_type": spec["type"]}, error_type=spec["type"])


class Errors:
    """fal's answers to what the core seam detects."""

    kind = FalError

    def reply(self, error: FalError) -> Response:
        return json_reply(error.body, error.status, error.headers())

    def internal(self, route: str) -> FalError:
        return request_error("internal")

    def not_found(self, method: str, path: str) -> FalError:
        return request_error("notFound", method=method, path=path)

    def body_too_large(self, limit: int) -> FalError:
        return request_error("bodyTooLarge", limit=limit)

    def malformed(self, detail: str) -> FalError:
        return malformed(detail)

    def injected(self, rule: Rule) -> FalError:
        kind = rules.RULES["statusErrorTypes"].get(str(rule.status), "internal_error")
        detail = rule.message or REQUEST_ERRORS["injected"]["detail"]
        error = FalError(rule.status, {"detail": detail, "error_type": rule.code or kind}, error_type=rule.code or kind)
        error.retry_after = rule.retry_after
        return error

    def limited(self, refusal: Overloaded) -> FalError:
        error = request_error("rateLimited", reason=str(refusal))
        error.retry_after = refusal.retry_after
        return error
