"""Runware's error objects: `{"errors": [{code, message, parameter, type, documentation, taskType, taskUUID}]}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import Violation, fill
from contracts.runware import rules
from emulator.core.faults import Rule
from emulator.core.jobs import Overloaded


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
        message = f"Missing required parameter '{parameter}'."
    elif template:
        message = fill(template, violation.limits)
    else:
        message = f"Invalid value for '{parameter}' parameter. {violation.message}"
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


def missing_api_key() -> RunwareError:
    return RunwareError(
        "missingApiKey",
        "Missing API key. Send an 'authentication' task with your 'apiKey' or an 'Authorization: Bearer' header.",
        status=401,
        parameter="apiKey",
        type="string",
        task_type="authentication",
    )


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


def invalid_json(detail: str) -> RunwareError:
    return RunwareError("invalidJSON", f"The request body is not valid JSON: {detail}.", status=400)


def invalid_body() -> RunwareError:
    schema = rules.CONTRACT.schema("request")
    message = fill(schema["x-error"]["message"], {"maxItems": schema["maxItems"]})
    return RunwareError(schema["x-error"]["code"], message, status=400)


def body_too_large(limit: int) -> RunwareError:
    return RunwareError(
        "invalidRequestBody", f"The request body is larger than the {limit} bytes this emulator accepts.", status=413
    )


def frame_too_large(limit: int) -> RunwareError:
    return RunwareError(
        "invalidRequestBody", f"The frame is larger than the {limit} characters this emulator accepts.", status=413
    )


def not_authenticated() -> RunwareError:
    return RunwareError(
        "missingApiKey",
        'Authenticate first: send [{"taskType": "authentication", "apiKey": ...}] before other tasks.',
        status=401,
        parameter="apiKey",
        type="string",
    )


def conflict(task_type: str, task_uuid: str) -> RunwareError:
    return RunwareError(
        "conflictTaskUUID",
        "Task UUID already in use. Each task needs a new UUID v4; fetch earlier results with getResponse.",
        parameter="taskUUID",
        type="string",
        task_type=task_type,
        task_uuid=task_uuid,
    )


def task_not_found(task_uuid: str) -> RunwareError:
    return RunwareError(
        "taskFailedOrNotFound",
        "No task with this taskUUID exists, or its results have expired.",
        status=404,
        parameter="taskUUID",
        type="string",
        task_type="getResponse",
        task_uuid=task_uuid,
    )


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


def storage_full(detail: str) -> RunwareError:
    return RunwareError("maxUploadStorageExceeded", f"Upload rejected: {detail}.", status=413)


def not_found(path: str) -> RunwareError:
    return RunwareError("notFound", f"No Runware endpoint at {path}. Send POST requests to /v1.", status=404)


def method_not_allowed(method: str) -> RunwareError:
    return RunwareError("methodNotAllowed", f"{method} is not allowed here; send POST with a JSON array.", status=405)


def overloaded(reason: Overloaded) -> RunwareError:
    error = RunwareError("rateLimitExceeded", f"Queue capacity exceeded: {reason}. Retry later.", status=429)
    error.retry_after = reason.retry_after
    return error


def injected(rule: Rule) -> RunwareError:
    """The error a fault rule asks for, in Runware's shape with its documented text for the status."""
    table = rules.RULES["httpErrors"]
    spec = table.get(str(rule.status), table["default"])
    message = rule.message or spec["message"].replace("{status}", str(rule.status))
    error = RunwareError(rule.code or spec["code"], message, status=rule.status)
    error.retry_after = rule.retry_after
    return error


def failed(kind: str, message: str, task_uuid: str) -> RunwareError:
    """A failed generation: known failure kinds map to Runware's codes; any other kind is used as the code."""
    table = rules.RULES["failures"]
    spec = table.get(kind) or {"code": kind, "message": table["default"]["message"].replace("{kind}", kind)}
    return generation_failed(spec["code"], message or spec["message"], task_uuid)


def internal() -> RunwareError:
    return RunwareError(
        "internalServerError", "The emulator failed to answer this request; see its log and journal.", status=500
    )


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
