"""Cross-field rules and provider numbers for Wiro's `bytedance/seedream-v4`, evaluated on Run requests that
already pass `run.json`.

Every number comes from `rules.json` or the schemas; this module only combines them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .._loader import Violation, load
from .._text import fill
from ..boundaries import Boundary, walk
from ..counts import Mode, decide

CONTRACT = load("wiro")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
REQUEST_SCHEMA = "run"
RUN: Mapping[str, Any] = CONTRACT.schema(REQUEST_SCHEMA)
DEFAULTS: Mapping[str, Any] = CONTRACT.defaults(REQUEST_SCHEMA)
SIZES: list[str] = RUN["properties"]["size"]["enum"]
MAX_INPUT_IMAGES: int = RUN["properties"]["inputImage"]["maxItems"]
MAX_IMAGES: int = RUN["properties"]["maxImages"]["maximum"]
MIN_IMAGES: int = RUN["properties"]["maxImages"]["minimum"]
UPLOAD_MAX_BYTES: int = CONTRACT.schema("common")["$defs"]["uploadedFile"]["properties"]["size"]["maximum"]
MODEL: Mapping[str, Any] = RULES["model"]
LIFECYCLE: Mapping[str, Any] = RULES["lifecycle"]
ERRORS: Mapping[str, Mapping[str, Any]] = RULES["errors"]
NONCE: Mapping[str, Any] = RULES["nonce"]
NONCE_PATTERN = re.compile(NONCE["pattern"])
WARNINGS: Mapping[str, str] = RULES["warnings"]
REFERENCE_FAILURES: Mapping[str, str] = RULES["referenceFailures"]


def is_model(owner: str, project: str) -> bool:
    """The served model; the owner slug is matched case-insensitively (n8n sends `ByteDance`)."""
    return owner.lower() == str(MODEL["owner"]) and project.lower() == str(MODEL["project"])


def dimensions(size: str) -> tuple[int, int]:
    width, _, height = size.partition("x")
    return int(width), int(height)


def size(request: Mapping[str, Any]) -> str:
    return str(request.get("size", DEFAULTS["size"]))


def max_images(request: Mapping[str, Any]) -> int:
    """The `maxImages` of a valid request (default 1): the most images the task may make."""
    return int(request.get("maxImages", DEFAULTS["maxImages"]))


def image_count(request: Mapping[str, Any], mode: Mode = "prompt") -> int:
    """Images a valid request makes: `maxImages` is an upper bound the prompt decides within (the model page asks
    the prompt to state the number), never above 15 - references; `max` mode always makes the cap."""
    room = RULES["maxReferencesPlusImages"] - len(request.get("inputImage") or [])
    return decide(str(request["prompt"]), max(1, min(max_images(request), room)), mode)


def nonce_problem(nonce: str) -> str | None:
    """Why an `x-nonce` is not the integer Wiro asks for ("unix time or any random integer value"), or None."""
    if not NONCE_PATTERN.match(nonce):
        return f"x-nonce {nonce[:40]!r} is not an integer (unix time or any random integer value)"
    if len(nonce) > 20 or not NONCE["minimum"] <= int(nonce) <= NONCE["maximum"]:
        return f"x-nonce {nonce[:40]}... is outside the signed 64-bit integer range"
    return None


def warning(name: str, **values: Any) -> str:
    """A journal warning: what the emulator served although Wiro would not, naming the Wiro fact."""
    return str(fill(WARNINGS[name], values))


def reference_failure(name: str, **values: Any) -> str:
    """The stderr of a task whose inputImage URL could not be used."""
    return str(fill(REFERENCE_FAILURES[name], values))


def watermark(request: Mapping[str, Any]) -> str:
    return str(request.get("watermark", DEFAULTS["watermark"]))


def categories() -> str:
    """Wiro's `categories` field: a JSON array serialised into a string."""
    return json.dumps(MODEL["categories"], separators=(",", ":"))


def message(rule: str, **values: Any) -> str:
    return str(fill(ERRORS[rule]["message"], values))


def check(request: Mapping[str, Any]) -> list[Violation]:
    references = len(request.get("inputImage", []))
    count = max_images(request)
    limit = RULES["maxReferencesPlusImages"]
    if references + count <= limit:
        return []
    text = message("parameterBetween", name="maxImages", min=MIN_IMAGES, max=limit - references)
    return [
        Violation(
            "/maxImages",
            text,
            "rule:maxReferencesPlusImages",
            {"code": ERRORS["parameterBetween"]["code"], "message": text},
            {"references": references, "maxImages": count, "limit": limit},
        )
    ]


def boundaries() -> list[Boundary]:
    """Every limit a Run can meet: the schema's, then `maxImages` as a whole number and references + images.

    Not here: the 100 MiB file limit (no fixture weighs that much; File/Upload and the multipart decoder test it)
    and `x-nonce`'s 64-bit range (a header the client makes, not a request field the caller gives)."""
    return [*walk(CONTRACT, REQUEST_SCHEMA), _whole_images(), _references_plus_images()]


def _whole_images() -> Boundary:
    """`maxImages` is a number that must be whole (`multipleOf`): an integral float is a count, a fraction is not."""
    node = RUN["properties"]["maxImages"]
    step = node["multipleOf"]
    return Boundary(
        f"/maxImages multipleOf {step}",
        "multipleOf",
        step,
        {"/maxImages": float(MIN_IMAGES + step)},
        {"/maxImages": MIN_IMAGES + step / 2},
    )


def _references_plus_images() -> Boundary:
    """References + `maxImages` at most `maxReferencesPlusImages`, met with the fewest references that keep both
    `maxImages` values within the schema's own range (so only the cross-field rule tells them apart)."""
    limit = RULES["maxReferencesPlusImages"]
    references = max(1, limit - MAX_IMAGES + 1)
    given = [RUN["properties"]["inputImage"]["items"]["examples"][0]] * references
    return Boundary(
        f"/maxImages plus references maximum {limit}",
        "maximum",
        limit,
        {"/inputImage": given, "/maxImages": limit - references},
        {"/inputImage": given, "/maxImages": limit - references + 1},
    )


def statuses() -> list[str]:
    """Every status of a successful task in emitted order (one task_output per image)."""
    order: list[str] = []
    for phase in ("queued", "running", "output", "succeeded", "postprocessed"):
        order += LIFECYCLE[phase]
    return order


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    lifecycle = LIFECYCLE
    callback = RULES["callback"]
    return [
        (
            f"- Model: `{MODEL['owner']}/{MODEL['project']}` ({MODEL['name']}); owner and model slug match "
            "case-insensitively; any other `/Run/{owner}/{model}` is `slug-owner-project-not-exist`."
        ),
        f"- Sizes: {', '.join(f'`{value}`' for value in SIZES)} (default `{DEFAULTS['size']}`).",
        (
            f"- `inputImage`: at most {MAX_INPUT_IMAGES} entries (files and URLs, mixed); "
            f"references + `maxImages` <= {RULES['maxReferencesPlusImages']}."
        ),
        (
            f"- `maxImages` {MIN_IMAGES}..{MAX_IMAGES} (default {DEFAULTS['maxImages']}) is an upper bound: the task makes "
            "as many images as the prompt asks for (one when it asks for no number), at most `maxImages` "
            f'(`image_count = "max"`: always `maxImages`), as `{MODEL["outputFormat"]}` files named '
            f"`0.{MODEL['outputFormat']}`, `1.{MODEL['outputFormat']}`, ..."
        ),
        (
            f"- `x-nonce`: an integer (`{NONCE['pattern']}`, signed 64-bit); a nonce the project already used is refused "
            "like a wrong signature."
        ),
        f"- Files: at most {UPLOAD_MAX_BYTES:,} bytes per file (File/Upload and multipart `inputImage`).",
        f"- Cost: `totalcost = cps x elapsedseconds` with `cps` {MODEL['cps']}, on successful tasks only.",
        "",
        "| engine event | Wiro statuses, in order |",
        "|---|---|",
        *(
            f"| {phase} | {', '.join(f'`{status}`' for status in lifecycle[phase])} |"
            for phase in ("queued", "running", "output", "succeeded", "failed", "postprocessed", "canceled")
        ),
        "",
        (
            f"- Terminal: {', '.join(f'`{s}`' for s in lifecycle['terminal'])}. Task/Cancel accepts "
            f"{', '.join(f'`{s}`' for s in lifecycle['cancellable'])}; Task/Kill accepts "
            f"{', '.join(f'`{s}`' for s in lifecycle['killable'])}. A failed task ends with `pexit` "
            f'"{lifecycle["failureExitCode"]}".'
        ),
        f"- Callback ({callback['maxAttempts']} attempts, {callback['timeout']} s timeout each): {callback['description']}",
        "",
        "| error | HTTP | code | message |",
        "|---|---|---|---|",
        *(f"| {name} | {error['status']} | {error['code']} | `{error['message']}` |" for name, error in ERRORS.items()),
    ]
