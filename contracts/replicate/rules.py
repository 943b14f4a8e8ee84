"""Cross-field rules for Replicate's bytedance/seedream-4, and Replicate's 422 wording.

Every number comes from `rules.json` or the schemas; this module only combines them.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs

from .._loader import load

CONTRACT = load("replicate")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
MODEL: Mapping[str, Any] = RULES["model"]
MODEL_REF = f"{MODEL['owner']}/{MODEL['name']}"
VERSIONS: tuple[Mapping[str, Any], ...] = tuple(MODEL["versions"])
LATEST_VERSION: Mapping[str, Any] = VERSIONS[0]
INPUT_DEFAULTS: Mapping[str, Any] = CONTRACT.defaults("input")
VALIDATION: Mapping[str, Any] = RULES["validation"]
WEBHOOK_EVENTS: tuple[str, ...] = tuple(RULES["webhooks"]["events"])

Size = tuple[int, int]
PREFER = re.compile(r'^\s*wait\s*(?:=\s*(?P<quote>"?)(?P<seconds>[^"\s]*)(?P=quote)\s*)?$', re.IGNORECASE)
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
DURATION_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


@dataclass(frozen=True)
class InvalidField:
    """One entry of a 422 body's `invalid_fields`, worded as Replicate's validator words it."""

    type: str
    field: str
    description: str

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "field": self.field, "description": self.description}

    def line(self) -> str:
        return f"- {self.field}: {self.description}\n" if self.field else f"- {self.description}\n"


def known_version(version_id: str) -> bool:
    return any(version["id"] == version_id for version in VERSIONS)


def invalid_fields(name: str, instance: Any) -> list[InvalidField]:
    """Everything wrong with a request body against schema `name`, in Replicate's 422 wording."""
    try:
        errors = list(_validator(name).iter_errors(instance))
    except (ValueError, OverflowError) as exc:
        return [InvalidField(VALIDATION["types"]["type"], "", f"The request body cannot be validated: {exc}")]
    found: list[InvalidField] = []
    for error in errors:
        found += _describe(error)
    return found


def webhook_problem(field: str, url: str, *, strict: bool) -> InvalidField | None:
    """Webhooks must be deliverable: HTTP(S) with a host; in strict mode HTTPS to a public host only."""
    parts = urlsplit(url)
    template = VALIDATION["templates"]["invalid_webhook"]
    if strict:
        if parts.scheme != "https" or not parts.hostname or _local_host(parts.hostname):
            return InvalidField("invalid_webhook", field, template)
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return InvalidField("invalid_webhook", field, f"{field} must be an HTTP(S) URL")
    return None


def value(input: Mapping[str, Any], key: str) -> Any:
    return input.get(key, INPUT_DEFAULTS.get(key))


def image_inputs(input: Mapping[str, Any]) -> list[str]:
    return list(value(input, "image_input") or [])


def sequential(input: Mapping[str, Any]) -> bool:
    return bool(value(input, "sequential_image_generation") == RULES["autoSequential"])


def image_count(input: Mapping[str, Any], auto_cap: int | None = None) -> int:
    """Images a valid input yields: 1, or with `auto` sequential generation `max_images` (capped by the setting)."""
    if not sequential(input):
        return 1
    maximum = int(value(input, "max_images"))
    return min(maximum, auto_cap) if auto_cap else maximum


def run_failure(input: Mapping[str, Any]) -> str | None:
    """The error of a prediction whose input passes the schema but breaks a limit checked only at run time."""
    inputs = len(image_inputs(input))
    if inputs > RULES["maxImageInputs"]:
        return str(RULES["runErrors"]["tooManyImageInputs"]).format(count=inputs, maximum=RULES["maxImageInputs"])
    if sequential(input):
        max_images = int(value(input, "max_images"))
        if inputs + max_images > RULES["maxTotalImages"]:
            return str(RULES["runErrors"]["tooManyTotalImages"]).format(
                maximum=RULES["maxTotalImages"], inputs=inputs, max_images=max_images, total=inputs + max_images
            )
    return None


def output_size(input: Mapping[str, Any], first_input: Size | None) -> Size:
    """Pixel size of every image of a valid input.

    `custom` takes width x height; otherwise the size tier's table entry for `aspect_ratio`, where
    `match_input_image` means the entry nearest the first input image's aspect ratio (1:1 without one).
    """
    size = value(input, "size")
    if size == RULES["customSize"]:
        return int(value(input, "width")), int(value(input, "height"))
    table: Mapping[str, list[int]] = RULES["sizeTable"][size]
    ratio = value(input, "aspect_ratio")
    if ratio == RULES["matchInputImage"]:
        if first_input is None or min(first_input) <= 0:
            ratio = RULES["fallbackAspectRatio"]
        else:
            target = math.log(first_input[0] / first_input[1])
            ratio = min(table, key=lambda name: abs(math.log(table[name][0] / table[name][1]) - target))
    width, height = table[ratio]
    return width, height


def parse_prefer(header: str) -> int:
    """Seconds to hold a create request for `Prefer: wait[=N]`; ValueError for anything else."""
    match = PREFER.match(header)
    limits = RULES["prefer"]
    if match is None:
        raise ValueError(header)
    raw = match.group("seconds")
    if raw is None:
        return int(limits["default"])
    if not raw.isdigit() or not limits["minimum"] <= int(raw) <= limits["maximum"]:
        raise ValueError(header)
    return int(raw)


def parse_cancel_after(header: str) -> float:
    """Seconds from a `Cancel-After` duration (`30s`, `5m`, `1h30m45s`, bare seconds); ValueError when invalid."""
    text = header.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    else:
        parts = DURATION_PART.findall(text)
        if not parts or "".join(number + unit for number, unit in parts) != text:
            raise ValueError(header)
        seconds = sum(float(number) * DURATION_UNITS[unit] for number, unit in parts)
    if not math.isfinite(seconds) or seconds < RULES["cancelAfter"]["minimumSeconds"]:
        raise ValueError(header)
    return seconds


def error(name: str, **values: Any) -> dict[str, Any]:
    """An HTTP error body from `errors` in rules.json, placeholders filled."""
    template = RULES["errors"][name]
    body = {key: text.format(**values) if isinstance(text, str) else text for key, text in template.items()}
    return body


@cache
def openapi_schema() -> dict[str, Any]:
    """The version's `openapi_schema`, in the shape Cog generates, built from input.json and output.json."""
    events = list(WEBHOOK_EVENTS)
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {
            "/predictions": {
                "post": {
                    "summary": "Predict",
                    "operationId": "predict_predictions_post",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictionRequest"}}}
                    },
                    "responses": {
                        "200": {
                            "description": "Successful Response",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/PredictionResponse"}}
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Input": _component("input"),
                "Output": _component("output"),
                "Status": {
                    "title": "Status",
                    "description": "An enumeration.",
                    "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
                    "type": "string",
                },
                "WebhookEvent": {
                    "title": "WebhookEvent",
                    "description": "An enumeration.",
                    "enum": events,
                    "type": "string",
                },
                "PredictionRequest": {
                    "title": "PredictionRequest",
                    "type": "object",
                    "properties": {
                        "id": {"title": "Id", "type": "string"},
                        "input": {"$ref": "#/components/schemas/Input"},
                        "webhook": {"title": "Webhook", "type": "string", "format": "uri", "minLength": 1},
                        "webhook_events_filter": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/WebhookEvent"},
                            "default": events,
                        },
                    },
                },
                "PredictionResponse": {
                    "title": "PredictionResponse",
                    "type": "object",
                    "properties": {
                        "id": {"title": "Id", "type": "string"},
                        "input": {"$ref": "#/components/schemas/Input"},
                        "output": {"$ref": "#/components/schemas/Output"},
                        "status": {"$ref": "#/components/schemas/Status"},
                        "error": {"title": "Error", "type": "string"},
                        "logs": {"title": "Logs", "type": "string", "default": ""},
                        "metrics": {"title": "Metrics", "type": "object"},
                        "created_at": {"title": "Created At", "type": "string", "format": "date-time"},
                        "started_at": {"title": "Started At", "type": "string", "format": "date-time"},
                        "completed_at": {"title": "Completed At", "type": "string", "format": "date-time"},
                    },
                },
            }
        },
    }


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    ratios = list(RULES["sizeTable"]["2K"])
    lines = ["| size | " + " | ".join(ratios) + " |", "|---" * (len(ratios) + 1) + "|"]
    for tier, table in RULES["sizeTable"].items():
        lines.append(f"| {tier} | " + " | ".join(f"{table[r][0]}x{table[r][1]}" for r in ratios) + " |")
    prefer, files, hooks = RULES["prefer"], RULES["files"], RULES["webhooks"]
    lines += [
        "",
        f'- `size: "{RULES["customSize"]}"` takes `width` x `height`; other sizes ignore them and take the table entry '
        f"for `aspect_ratio`. `{RULES['matchInputImage']}` takes the entry nearest the first input image's aspect "
        f"ratio, {RULES['fallbackAspectRatio']} without an input image (or when its size is unknown).",
        f"- Checked only at run time (the prediction is created, then `failed`): at most {RULES['maxImageInputs']} "
        f'`image_input` entries; with `sequential_image_generation: "{RULES["autoSequential"]}"`, inputs + '
        f"`max_images` <= {RULES['maxTotalImages']}.",
        f"- Images per prediction: 1, or `max_images` with `{RULES['autoSequential']}` sequential generation "
        "(setting `replicate_auto_image_count` caps it). Output files are "
        f"{RULES['output']['format'].upper()} (quality {RULES['output']['quality']}).",
        f"- `Prefer: wait` holds the create request up to {prefer['default']} s; `wait=N` takes N from "
        f"{prefer['minimum']} to {prefer['maximum']}. Sync replies carry data URIs for files up to "
        f"{RULES['output']['syncDataUriMaxBytes']:,} bytes (over plain HTTP for every file).",
        f"- `Cancel-After`: at least {RULES['cancelAfter']['minimumSeconds']} s.",
        f"- Predictions' `input` and `output` are removed {RULES['dataRemovalSeconds']} s after creation "
        "(`data_removed: true`).",
        f"- Lists: {RULES['pageSize']} items per page, most recent first.",
        f"- Files: under {files['maxBytes']:,} bytes, names up to {files['maxFilenameBytes']} bytes, expire after "
        f"{files['ttlSeconds']} s.",
        f"- Webhook events: {', '.join(f'`{e}`' for e in WEBHOOK_EVENTS)} (all by default); `output` and `logs` "
        f"at most one per {hooks['throttleSeconds']} s. {hooks['intermediate']['description']} "
        f"{hooks['terminal']['description']}",
        "",
        "| version | created |",
        "|---|---|",
        *(f"| `{version['id']}` | {version['created_at'][:10]} |" for version in VERSIONS),
    ]
    return lines


@cache
def _validator(name: str) -> Any:
    return jsonschema_rs.validator_for(CONTRACT.schema(name), registry=CONTRACT.registry, validate_formats=True)


def _describe(error: Any) -> list[InvalidField]:
    keyword = str(error.schema_path[-1]) if error.schema_path else ""
    kind: Mapping[str, Any] = error.kind.as_dict()
    path = [str(part) for part in error.instance_path]
    field = ".".join(path)
    code = VALIDATION["types"].get(keyword, keyword)
    template: str | None = VALIDATION["templates"].get(code)
    if keyword == "additionalProperties":
        return [
            InvalidField(code, field, template.format(property=name) if template else error.message)
            for name in kind.get("unexpected", [])
        ]
    values: dict[str, Any] = {}
    if keyword == "required":
        values["property"] = kind.get("property", "")
    elif keyword == "type":
        values["expected"] = ", ".join(kind.get("types", []))
        values["given"] = _json_type(error.instance)
    elif keyword == "enum":
        # Replicate validates `input` as its own document, so the name in the text is relative to it.
        relative = path[1:] if path[:1] == ["input"] else path
        values["field"] = ".".join(relative) or "(root)"
        values["allowed"] = ", ".join(json.dumps(option) for option in kind.get("options", []))
    elif keyword in ("minimum", "minItems", "minLength"):
        values["min"] = _number(kind.get("limit"))
    elif keyword in ("maximum", "maxItems", "maxLength"):
        values["max"] = _number(kind.get("limit"))
    elif keyword in ("format", "pattern"):
        values[keyword] = kind.get(keyword, "")
    description = template.format(**values) if template is not None and values else error.message
    return [InvalidField(code, field, description)]


def _json_type(instance: Any) -> str:
    if isinstance(instance, float) and instance.is_integer():
        return "integer"
    for kind, name in JSON_TYPES:
        if isinstance(instance, kind):
            return name
    return type(instance).__name__


def _number(limit: Any) -> str:
    if isinstance(limit, float) and limit.is_integer():
        return str(int(limit))
    return str(limit)


def _local_host(hostname: str) -> bool:
    if hostname.lower() in ("localhost", "localhost.localdomain") or hostname.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(hostname.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def _component(name: str) -> dict[str, Any]:
    schema = copy.deepcopy(CONTRACT.schema(name))
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema
