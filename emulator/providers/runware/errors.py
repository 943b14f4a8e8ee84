"""Runware's error objects: `{"errors": [{code, message, parameter, type, documentation, taskType, taskUUID}]}`.

Codes, messages and statuses live in `contracts/runware/rules.json` (`situations`, `violationMessages`, `details`,
`httpErrors`, `failures`) and in the schemas' `x-error` annotations; this module only fills them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from contracts import Violation, fill
from contracts.runware import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded
from emulator.core.seam import json_reply, retry_after

SITUATIONS: Mapping[str, Mapping[str, Any]] = rules.RULES["situations"]
VIOLATION_MESSAGES: Mapping[str, str] = rules.RULES["violationMessages"]
DETAILS: Mapping[str, str] = rules.RULES["details"]


class RunwareError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 400,
        parameter: str | list[str] | None = None,
        type: str | None = None,
        documentation: str | None = None,
        task_type: str | None = None,
        task_uuid: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.parameter = parameter
        self.type = type
        self.documentation = documentation
        self.task_type = task_type
        self.task_uuid = task_uuid
        self.violations: list[Violation] = []
        self.polled = False
        self.retry_after: float | None = None

    def about(self, task_type: str | None, task_uuid: str | None) -> RunwareError:
        """Attach the task this error answers, keeping whatever was already known."""
        self.task_type = self.task_type or task_type
        self.task_uuid = self.task_uuid or task_uuid
        return self

    def item(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        for key, value in (
            ("parameter", self.parameter),
            ("type", self.type),
            ("documentation", self.documentation),
            ("taskType", self.task_type),
            ("taskUUID", self.task_uuid),
        ):
            if value is not None:
                body[key] = value
        if self.polled:
            body["status"] = "error"
        return body


class Errors:
    """Runware's answers to what the core seam detects: one error item, alone in the reply."""

    kind = RunwareError

    def reply(self, error: RunwareError) -> Response:
        return json_reply({"errors": [error.item()]}, error.status, headers(error.status, [error]))

    def internal(self, route: str) -> RunwareError:
        return named("internal")

    def not_found(self, method: str, path: str) -> RunwareError:
        return named("notFound", path=path)

    def body_too_large(self, limit: int) -> RunwareError:
        return named("bodyTooLarge", limit=limit)

    def malformed(self, detail: str) -> RunwareError:
        return named("invalidJSON", detail=detail)

    def injected(self, rule: Rule) -> RunwareError:
        return injected(rule)

    def limited(self, refusal: Overloaded) -> RunwareError:
        return overloaded(refusal)


def headers(status: int, errors: list[RunwareError]) -> dict[str, str]:
    """A refusal's `Retry-After`: the first one an error asks for, on an error status only."""
    seconds = next((error.retry_after for error in errors if error.retry_after is not None), None)
    return {"Retry-After": retry_after(seconds)} if seconds is not None and status >= 400 else {}


def named(situation: str, **values: Any) -> RunwareError:
    """The error item of a situation in `rules.json`, its message filled from `values`."""
    spec = SITUATIONS[situation]
    return RunwareError(
        spec["code"],
        fill(spec["message"], values),
        status=int(spec["status"]),
        parameter=spec.get("parameter"),
        type=spec.get("type"),
        task_type=spec.get("taskType"),
    )


def detail(name: str, **values: Any) -> str:
    """A detail appended to a reference or upload error, from `rules.json`."""
    return str(fill(DETAILS[name], values))


def from_violation(violation: Violation, model: str | None = None) -> RunwareError:
    annotation: Mapping[str, Any] = violation.annotation
    parameter = annotation.get("parameter") or _parameter_from_path(violation.path, violation.missing)
    code = annotation.get("codes", {}).get(violation.keyword) or annotation.get("code")
    if code is None or violation.keyword == "required" and not str(code).startswith("missing"):
        prefix = "missing" if violation.keyword == "required" else "invalid"
        code = prefix + _capitalised_leaf(parameter)
    messages: Mapping[str, str] = annotation.get("messages", {})
    template = messages.get(violation.keyword) or annotation.get("message")
    if violation.keyword == "required":
        message = fill(VIOLATION_MESSAGES["required"], {"parameter": str(parameter)})
    elif template:
        message = fill(template, violation.limits)
    else:
        message = fill(VIOLATION_MESSAGES["default"], {"parameter": str(parameter), "message": violation.message})
    documentation = annotation.get("documentation")
    if documentation is None and model is not None and model in rules.RULES["models"] and isinstance(parameter, str):
        anchor = annotation.get("anchor") or "request-" + parameter.lower().replace(".", "-")
        documentation = rules.documentation(model, anchor)
    return RunwareError(
        code,
        message,
        parameter=parameter,
        type=annotation.get("type"),
        documentation=documentation,
    )


def refused(found: list[Violation], model: str | None = None) -> RunwareError:
    """The error for the first of `found`, carrying all of them for the journal."""
    error = from_violation(found[0], model)
    error.violations = found
    return error


def invalid_api_key() -> RunwareError:
    annotation = rules.CONTRACT.schema("authentication")["properties"]["apiKey"]["x-error"]
    return RunwareError(
        annotation["code"],
        annotation["message"],
        status=401,
        parameter="apiKey",
        type="string",
        task_type="authentication",
    )


def invalid_body() -> RunwareError:
    schema = rules.CONTRACT.schema("request")
    message = fill(schema["x-error"]["message"], {"maxItems": schema["maxItems"]})
    return RunwareError(schema["x-error"]["code"], message, status=400)


def conflict(task_type: str, task_uuid: str) -> RunwareError:
    return named("conflict").about(task_type, task_uuid)


def task_not_found(task_uuid: str) -> RunwareError:
    return named("taskNotFound").about(None, task_uuid)


def invalid_reference(detail: str, model: str | None) -> RunwareError:
    template = rules.CONTRACT.schema("common")["$defs"]["referenceImages"]["x-error"]
    return RunwareError(
        "invalidReferenceImages",
        f"{template['message']} ({detail})",
        parameter="referenceImages",
        type=template["type"],
        documentation=rules.documentation(model, template["anchor"]) if model else None,
    )


def invalid_upload(task_type: str, parameter: str, detail: str) -> RunwareError:
    annotation = rules.CONTRACT.schema(task_type)["properties"][parameter]["x-error"]
    return RunwareError(
        "invalid" + _capitalised_leaf(parameter),
        f"{annotation['message']} ({detail})",
        parameter=parameter,
        type=annotation["type"],
    )


def overloaded(reason: Overloaded) -> RunwareError:
    error = named("overloaded", reason=reason)
    error.retry_after = reason.retry_after
    return error


def injected(rule: Rule) -> RunwareError:
    """The error a fault rule asks for, in Runware's shape with its documented text for the status; a status without
    one gets the generic client or server error of its class."""
    table = rules.RULES["httpErrors"]
    spec = table.get(str(rule.status)) or table["5xx" if rule.status >= 500 else "4xx"]
    error = RunwareError(rule.code or spec["code"], rule.message or spec["message"], status=rule.status)
    error.retry_after = rule.retry_after
    return error


def failed(kind: str, message: str, task_uuid: str) -> RunwareError:
    """A failed generation: known failure kinds map to Runware's codes; any other kind is used as the code."""
    table = rules.RULES["failures"]
    spec = table.get(kind) or {"code": kind, "message": table["default"]["message"].replace("{kind}", kind)}
    return generation_failed(spec["code"], message or spec["message"], task_uuid)


def canceled(task_uuid: str) -> RunwareError:
    return named("taskCancelled").about(None, task_uuid)


def generation_failed(code: str, message: str, task_uuid: str) -> RunwareError:
    return RunwareError(code, message, status=400, task_type="imageInference", task_uuid=task_uuid)


def _parameter_from_path(path: str, missing: str | None) -> str:
    parts = [part for part in path.split("/") if part and not part.isdigit()]
    if missing:
        parts.append(missing)
    return ".".join(parts) or "body"


def _capitalised_leaf(parameter: str | list[str]) -> str:
    leaf = (parameter[0] if isinstance(parameter, list) else parameter).rsplit(".", 1)[-1]
    return leaf[:1].upper() + leaf[1:]
