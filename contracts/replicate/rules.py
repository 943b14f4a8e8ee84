"""Cross-field rules for Replicate's bytedance/seedream-4, and Replicate's 422 wording.

Every number comes from `rules.json` or the schemas; this module only combines them.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from .._loader import Violation, load, pointer
from .._text import fill
from ..boundaries import Boundary, Patch, example, walk
from ..counts import Mode, ask, decide

CONTRACT = load("replicate")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
MODEL: Mapping[str, Any] = RULES["model"]
MODEL_REF = f"{MODEL['owner']}/{MODEL['name']}"
VERSIONS: tuple[Mapping[str, Any], ...] = tuple(MODEL["versions"])
LATEST_VERSION: Mapping[str, Any] = VERSIONS[0]
INPUT_DEFAULTS: Mapping[str, Any] = CONTRACT.defaults("input")
VALIDATION: Mapping[str, Any] = RULES["validation"]
WEBHOOK_EVENTS: tuple[str, ...] = tuple(RULES["webhooks"]["events"])
WEBHOOK_TARGETS: Mapping[str, Any] = RULES["webhookTargets"]
IMAGE_INPUT: Mapping[str, Any] = RULES["imageInput"]
REQUEST_SCHEMA = "modelPredictionRequest"
INPUT: Mapping[str, Any] = CONTRACT.schema("input")
# Keywords of the contract that describe it for the harness and the docs; the published Cog schema has none.
ANNOTATIONS = frozenset({"examples", "x-boundary"})
WEBHOOK = "invalid_webhook"

Size = tuple[int, int]
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


def known_version(version_id: str) -> bool:
    return any(version["id"] == version_id for version in VERSIONS)


def invalid_fields(name: str, instance: Any) -> list[Violation]:
    """Everything wrong with a request body against schema `name`, in Replicate's 422 wording: each violation's
    `keyword` is the `type` of its `invalid_fields` entry and its `message` the `description`."""
    found: list[Violation] = []
    for violation in CONTRACT.validator(name).violations(instance):
        found += _worded(violation, instance)
    return found


def field_of(violation: Violation) -> str:
    """The `field` of an `invalid_fields` entry: the violation's path, dotted (empty for the body itself)."""
    return ".".join(_parts(violation.path))


def invalid_field(violation: Violation) -> dict[str, str]:
    """One entry of a 422 body's `invalid_fields`."""
    return {"type": violation.keyword, "field": field_of(violation), "description": violation.message}


def line(violation: Violation) -> str:
    """One line of a 422 body's `detail`."""
    name = field_of(violation)
    return f"- {name}: {violation.message}\n" if name else f"- {violation.message}\n"


def webhook_problem(field: str, url: str) -> Violation | None:
    """A webhook Replicate could never call (not HTTP(S), or no host): 422 whatever the target policy."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        return Violation(pointer([field]), VALIDATION["templates"]["invalid_webhook"].format(field=field), WEBHOOK)
    return None


def webhook_refusal(field: str, kind: str, host: str | None) -> Violation:
    """The 422 entry for a webhook target production refuses (`kind`: scheme, internal or malformed)."""
    template = WEBHOOK_TARGETS["refused"].get(kind, WEBHOOK_TARGETS["refused"]["malformed"])
    return Violation(pointer([field]), str(fill(template, {"field": field, "host": host or ""})), WEBHOOK)


def webhook_warning(field: str, url: str, kind: str, host: str | None) -> str:
    """The journal warning for a webhook target served only because the target policy is lenient."""
    template = WEBHOOK_TARGETS["warnings"].get(kind, WEBHOOK_TARGETS["warnings"]["malformed"])
    return str(fill(template, {"field": field, "url": url, "host": host or ""}))


def value(input: Mapping[str, Any], key: str) -> Any:
    return input.get(key, INPUT_DEFAULTS.get(key))


def image_inputs(input: Mapping[str, Any]) -> list[str]:
    return list(value(input, "image_input") or [])


def sequential(input: Mapping[str, Any]) -> bool:
    return bool(value(input, "sequential_image_generation") == RULES["autoSequential"])


def image_count(input: Mapping[str, Any], mode: Mode = "prompt") -> int:
    """Images a valid input yields: 1, or with `auto` sequential generation what the prompt asks for ("lets
    the model decide"), capped by `max_images` and by the inputs + generated <= 15 budget; `max` mode makes
    the cap."""
    if not sequential(input):
        return 1
    room = RULES["maxTotalImages"] - len(image_inputs(input))
    return decide(str(input["prompt"]), max(1, min(int(value(input, "max_images")), room)), mode)


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


@dataclass(frozen=True)
class Preference:
    """What a `Prefer` header asks of a create: hold it `seconds` (None: an ordinary async create)."""

    seconds: int | None = None
    applied: str | None = None  # the `Preference-Applied` value
    notes: tuple[str, ...] = ()


def parse_prefer(header: str) -> Preference:
    """RFC 7240 preferences: the first `wait[=N]` holds the create (N from 1, above the documented maximum
    held that maximum); every other preference, and a wait value that is not a positive whole number of
    seconds, is ignored, as RFC 7240 requires of a server that cannot apply a preference."""
    limits = RULES["prefer"]
    notes = RULES["journal"]["notes"]
    found: list[str] = []
    chosen: Preference | None = None
    for item in _preferences(header):
        name, equals, raw = item.partition("=")
        name, raw = name.strip().lower(), raw.strip().strip('"')
        if name != "wait" or chosen is not None:
            found.append(str(fill(notes["preferIgnored"], {"value": item.strip()[:100]})))
            continue
        if not equals:
            chosen = Preference(int(limits["default"]), "wait")
        elif raw.isascii() and raw.isdigit() and int(raw) >= limits["minimum"]:
            seconds = min(int(raw), int(limits["maximum"]))
            if seconds < int(raw):
                found.append(str(fill(notes["preferClamped"], {"seconds": raw, "maximum": limits["maximum"]})))
            chosen = Preference(seconds, f"wait={seconds}")
        else:
            found.append(str(fill(notes["preferIgnored"], {"value": item.strip()[:100]})))
    if chosen is None:
        return Preference(notes=tuple(found))
    return Preference(chosen.seconds, chosen.applied, tuple(found))


def _preferences(header: str) -> list[str]:
    """The comma-separated preferences of a `Prefer` header, each without its `;` parameters."""
    items = []
    for part in header.split(","):
        preference = part.split(";", 1)[0].strip()
        if preference:
            items.append(preference)
    return items


def parse_cancel_after(header: str) -> float:
    """Seconds from a `Cancel-After` duration (`30s`, `5m`, `1h30m45s`, bare seconds); ValueError when invalid or
    outside the bounds (`cancelAfter` in rules.json)."""
    text = header.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    else:
        parts = DURATION_PART.findall(text)
        if not parts or "".join(number + unit for number, unit in parts) != text:
            raise ValueError(header)
        seconds = sum(float(number) * DURATION_UNITS[unit] for number, unit in parts)
    bounds = RULES["cancelAfter"]
    if not math.isfinite(seconds) or not bounds["minimumSeconds"] <= seconds <= bounds["maximumSeconds"]:
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


def boundaries() -> list[Boundary]:
    """Every limit a prediction request can meet: the schema's (those of `input` richer where the plain patch would
    not reach them), its webhook events, then the limits Replicate checks only while the model runs."""
    walked = [_richer(boundary) for boundary in walk(CONTRACT, REQUEST_SCHEMA)]
    return [*walked, _events_boundary(), *_run_boundaries()]


def _richer(boundary: Boundary) -> Boundary:
    """A walked limit whose plain inside patch the model ignores, made to count: `width`/`height` only apply to a
    custom size, `max_images` only to `auto` sequential generation (at its maximum the prompt asks for that many,
    at the cheapest size)."""
    field = boundary.name.split(" ", 1)[0].rsplit("/", 1)[-1]
    extra: dict[str, Any] = {}
    if field in ("width", "height"):
        extra = {"/input/size": RULES["customSize"]}
    elif field == "max_images":
        extra = {"/input/sequential_image_generation": RULES["autoSequential"]}
        if boundary.keyword == "maximum":
            prompt = ask(example(CONTRACT, REQUEST_SCHEMA)["input"]["prompt"], boundary.bound)
            extra |= {"/input/size": _smallest_tier(), "/input/prompt": prompt}
    if not extra:
        return boundary
    return Boundary(
        boundary.name,
        boundary.keyword,
        boundary.bound,
        {**extra, **boundary.inside},
        boundary.outside,
        boundary.refused_by,
    )


def _smallest_tier() -> str:
    """The size tier with the fewest pixels at the aspect ratio a request without inputs gets."""
    table: Mapping[str, Mapping[str, list[int]]] = RULES["sizeTable"]
    return min(table, key=lambda tier: math.prod(table[tier][RULES["fallbackAspectRatio"]]))


def _events_boundary() -> Boundary:
    """The events `webhook_events_filter` may name (an enum on its items, which the walker does not reach)."""
    reference = CONTRACT.schema(REQUEST_SCHEMA)["properties"]["webhook_events_filter"]["$ref"]
    node, _ = CONTRACT.resolve(reference, REQUEST_SCHEMA)
    choices = list(node["items"]["enum"])
    return Boundary(
        "/webhook_events_filter/0 enum",
        "enum",
        choices,
        {"/webhook_events_filter": [choices[-1]]},
        {"/webhook_events_filter": ["not-" + "-".join(choices[:2])]},
    )


def _run_boundaries() -> list[Boundary]:
    """Limits the schema leaves to run time: the prediction is created, then fails (met with emulator fixtures,
    which Replicate's model reads like any file)."""
    reference = INPUT["properties"]["image_input"]["items"]["examples"][0]
    most, total = RULES["maxImageInputs"], RULES["maxTotalImages"]
    auto = {"/input/sequential_image_generation": RULES["autoSequential"], "/input/image_input": [reference]}

    def run(name: str, keyword: str, bound: int, inside: Patch, outside: Patch) -> Boundary:
        return Boundary(name, keyword, bound, inside, outside, refused_by="task")

    return [
        run(
            f"/input/image_input maxItems {most}",
            "maxItems",
            most,
            {"/input/image_input": [reference] * most},
            {"/input/image_input": [reference] * (most + 1)},
        ),
        run(
            f"/input/max_images total maximum {total}",
            "maximum",
            total,
            {**auto, "/input/max_images": total - 1},
            {**auto, "/input/max_images": total},
        ),
    ]


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    ratios = list(RULES["sizeTable"]["2K"])
    lines = ["| size | " + " | ".join(ratios) + " |", "|---" * (len(ratios) + 1) + "|"]
    for tier, table in RULES["sizeTable"].items():
        lines.append(f"| {tier} | " + " | ".join(f"{table[r][0]}x{table[r][1]}" for r in ratios) + " |")
    prefer, files, hooks = RULES["prefer"], RULES["files"], RULES["webhooks"]
    lines += [
        "",
        (
            f'- `size: "{RULES["customSize"]}"` takes `width` x `height`; other sizes ignore them and take the table entry '
            f"for `aspect_ratio`. `{RULES['matchInputImage']}` takes the entry nearest the first input image's aspect "
            f"ratio, {RULES['fallbackAspectRatio']} without an input image (or when its size is unknown)."
        ),
        (
            f"- Checked only at run time (the prediction is created, then `failed`): at most {RULES['maxImageInputs']} "
            f'`image_input` entries; with `sequential_image_generation: "{RULES["autoSequential"]}"`, inputs + '
            f"`max_images` <= {RULES['maxTotalImages']}; every `image_input` entry must load as an image "
            f"({', '.join(IMAGE_INPUT['formats'])}; a download under {IMAGE_INPUT['maxBytes']:,} bytes). "
            "URLs on unreachable or internal hosts fail the prediction; public hosts are not downloaded offline."
        ),
        (
            f"- Images per prediction: 1; with `{RULES['autoSequential']}` sequential generation the model decides: as "
            "many as the prompt asks for (`generate 3 images`, `a set of four`, `生成3张`), at most `max_images` and "
            f'{RULES["maxTotalImages"]} minus the inputs, 1 when it asks for no number (`image_count = "max"`: always '
            f"the cap). Output files are {RULES['output']['format'].upper()} (quality {RULES['output']['quality']})."
        ),
        (
            f"- `Prefer: wait` holds the create request up to {prefer['default']} s; `wait=N` takes N from "
            f"{prefer['minimum']} (the OpenAPI pattern admits up to {prefer['patternMaximum']}; more than "
            f"{prefer['maximum']} is held {prefer['maximum']} s). Other preferences, and `wait` values that are not a "
            "positive whole number, are ignored (RFC 7240): the create is async. Sync replies carry data URIs for "
            f"files up to {RULES['output']['syncDataUriMaxBytes']:,} bytes (over plain HTTP for every file); GET, list, "
            "cancel and webhooks carry file URLs."
        ),
        (
            f"- `Cancel-After`: at least {RULES['cancelAfter']['minimumSeconds']} s; at most "
            f"{RULES['cancelAfter']['maximumSeconds']:,} s (an emulator bound)."
        ),
        (
            f"- Predictions' `input` and `output` are removed {RULES['dataRemovalSeconds']} s after creation "
            "(`data_removed: true`)."
        ),
        f"- Lists: {RULES['pageSize']} items per page, most recent first.",
        (
            f"- Files: under {files['maxBytes']:,} bytes, names up to {files['maxFilenameBytes']} bytes, expire after "
            f"{files['ttlSeconds']} s."
        ),
        (
            f"- Webhook events: {', '.join(f'`{e}`' for e in WEBHOOK_EVENTS)} (all by default); `output` and `logs` "
            f"at most one per {hooks['throttleSeconds']} s. {hooks['intermediate']['description']} "
            f"{hooks['terminal']['description']}"
        ),
        f"- Webhook targets (`webhook`, `webhook_completed`): {WEBHOOK_TARGETS['description']}",
        "",
        "| version | created |",
        "|---|---|",
        *(f"| `{version['id']}` | {version['created_at'][:10]} |" for version in VERSIONS),
    ]
    return lines


def _worded(violation: Violation, instance: Any) -> list[Violation]:
    """A violation as Replicate's validator (gojsonschema) words it; `additionalProperties` gives one per name."""
    keyword, details, path = violation.keyword, violation.details, violation.path
    code = VALIDATION["types"].get(keyword, keyword)
    if not details:  # the validator could not read the instance at all (not JSON): its own words
        return [Violation(path, violation.message, code)]
    template: str | None = VALIDATION["templates"].get(code)
    if keyword == "additionalProperties":
        return [
            Violation(path, template.format(property=name) if template else violation.message, code)
            for name in details.get("unexpected", [])
        ]
    parts = _parts(path)
    values: dict[str, Any] = {}
    if keyword == "required":
        values["property"] = details.get("property", "")
    elif keyword == "type":
        values["expected"] = ", ".join(details.get("types", []))
        values["given"] = _json_type(_at(instance, parts))
    elif keyword == "enum":
        # Replicate validates `input` as its own document, so the name in the text is relative to it.
        relative = parts[1:] if parts[:1] == ["input"] else parts
        values["field"] = ".".join(relative) or "(root)"
        values["allowed"] = ", ".join(json.dumps(option) for option in details.get("options", []))
    elif keyword in ("minimum", "minItems", "minLength"):
        values["min"] = _number(details.get("limit"))
    elif keyword in ("maximum", "maxItems", "maxLength"):
        values["max"] = _number(details.get("limit"))
    elif keyword in ("format", "pattern"):
        values[keyword] = details.get(keyword, "")
    description = template.format(**values) if template is not None and values else violation.message
    return [Violation(path, description, code)]


def _parts(path: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def _at(instance: Any, parts: list[str]) -> Any:
    for part in parts:
        instance = instance[int(part)] if isinstance(instance, list) else instance[part]
    return instance


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


def _component(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = published(CONTRACT.schema(name))
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def published(node: Any) -> Any:
    """A contract schema as Cog publishes it: without the harness's annotations (`examples`, `x-boundary`)."""
    if isinstance(node, list):
        return [published(item) for item in node]
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    return {
        key: {name: published(child) for name, child in value.items()} if key == "properties" else published(value)
        for key, value in node.items()
        if key not in ANNOTATIONS
    }
