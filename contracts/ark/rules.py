"""Cross-field rules for Ark Seedream 4.0 / 4.5 image generation, evaluated on bodies that already pass the schema.

Every number comes from `rules.json` or the schemas; this module only combines them. The emulator and the
conformance harness both use it, so an expected image size or count is computed once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .._loader import Violation, load
from .._text import fill
from ..boundaries import Boundary, walk
from ..counts import Mode, decide
from ..fixtures import fixture_url

CONTRACT = load("ark")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
REQUEST_SCHEMA = "imageGeneration"
REQUEST: Mapping[str, Any] = CONTRACT.schema(REQUEST_SCHEMA)
DEFAULTS: Mapping[str, Any] = CONTRACT.defaults(REQUEST_SCHEMA)
MODELS: Mapping[str, Mapping[str, str]] = RULES["models"]
ENDPOINTS: Mapping[str, str] = RULES["endpoints"]
ENDPOINT = re.compile(ENDPOINTS["pattern"])
FAMILIES: Mapping[str, Mapping[str, Any]] = RULES["families"]
ASPECT: Mapping[str, Any] = RULES["aspect"]
PRESETS: Mapping[str, Mapping[str, list[int]]] = {
    tier: table for tier, table in RULES["presetSizes"].items() if isinstance(table, dict)
}
MAX_TOTAL: int = RULES["maxReferencesPlusGenerated"]
MAX_REFERENCES: int = REQUEST["properties"]["image"]["anyOf"][1]["maxItems"]
REFERENCES: Mapping[str, Any] = RULES["referenceImages"]
OPTIONS: Mapping[str, Any] = REQUEST["properties"]["sequential_image_generation_options"]["properties"]
DEFAULT_MAX_IMAGES: int = OPTIONS["max_images"]["default"]
PIXELS = re.compile(r"^(\d+)x(\d+)$")
MODEL: str = next(iter(MODELS))  # the BytePlus ID of Seedream 4.0: the harness's default model
NESTED = ("sequential_image_generation_options", "optimize_prompt_options")

Size = tuple[int, int]


def present(body: Mapping[str, Any]) -> dict[str, Any]:
    """`body` without the fields set to null, at the top level and in the option objects: the official clients
    send every parameter they were not given as null (volcengine-python-sdk Images.generate), and Ark serves them."""
    kept = {key: value for key, value in body.items() if value is not None}
    for key in NESTED:
        if isinstance(kept.get(key), dict):
            kept[key] = {name: value for name, value in kept[key].items() if value is not None}
    return kept


def family(model: str) -> str | None:
    """ "4.0" or "4.5" for a known model ID or an endpoint ID; None for anything else."""
    if model in MODELS:
        return MODELS[model]["family"]
    return ENDPOINTS["family"] if ENDPOINT.match(model) else None


def runs_as(model: str) -> str:
    """The model ID a reply names: the model itself, or the one an endpoint ID stands for in the emulator."""
    return model if model in MODELS else ENDPOINTS["model"]


def is_endpoint(model: str) -> bool:
    return bool(ENDPOINT.match(model))


def references(body: Mapping[str, Any]) -> list[str]:
    """The reference images of a valid body, in order (`image` is one string or an array)."""
    image = body.get("image")
    if image is None:
        return []
    return [image] if isinstance(image, str) else list(image)


def pixel_size(size: str) -> Size | None:
    match = PIXELS.match(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


def nearest_ratio(tier: str, reference: Size) -> str:
    """The preset ratio whose aspect is nearest (in log space) to a reference image's."""
    target = math.log(reference[0] / reference[1])
    table = PRESETS[tier]
    return min(table, key=lambda ratio: abs(math.log(table[ratio][0] / table[ratio][1]) - target))


def output_size(body: Mapping[str, Any], first_reference: Size | None = None) -> Size:
    """The pixel size of every image of a valid body; `first_reference` is the first visible reference's size."""
    size = body.get("size", DEFAULTS["size"])
    pixels = pixel_size(size)
    if pixels is not None:
        return pixels
    ratio = nearest_ratio(size, first_reference) if first_reference else "1:1"
    width, height = PRESETS[size][ratio]
    return width, height


def group(body: Mapping[str, Any]) -> bool:
    return bool(body.get("sequential_image_generation", DEFAULTS["sequential_image_generation"]) == "auto")


def max_images(body: Mapping[str, Any]) -> int:
    """The most images a valid body may yield: 1, or in a group max_images within 15 - references."""
    if not group(body):
        return 1
    asked = int((body.get("sequential_image_generation_options") or {}).get("max_images", DEFAULT_MAX_IMAGES))
    return max(1, min(asked, MAX_TOTAL - len(references(body))))


def image_count(body: Mapping[str, Any], mode: Mode = "prompt", prompt: str | None = None) -> int:
    """Images a valid body yields: one, or in a group what the prompt asks for within `max_images` (contracts/counts.py);
    `prompt` is the one the model reads, when it differs from the body's."""
    return decide(prompt if prompt is not None else body["prompt"], max_images(body), mode) if group(body) else 1


def tokens(width: int, height: int) -> int:
    """usage.output_tokens of one image."""
    return round(width * height / int(RULES["tokens"]["pixelsPerToken"]))


def check(body: Mapping[str, Any]) -> list[Violation]:
    """Cross-field violations of a schema-valid body: the model first (a 404), then the size for that model."""
    model = body["model"]
    kind = family(model)
    if kind is None:
        return [_violation("modelNotFound", "/model", model=model)]
    return _check_size(body, kind)


def _check_size(body: Mapping[str, Any], kind: str) -> list[Violation]:
    size = body.get("size", DEFAULTS["size"])
    limits = FAMILIES[kind]
    pixels = pixel_size(size)
    if pixels is None:
        if size in limits["presets"]:
            return []
        return [
            _violation(
                "presetNotSupported", "/size", model=body["model"], size=size, presets=", ".join(limits["presets"])
            )
        ]
    width, height = pixels
    shown = {
        "model": body["model"],
        "width": width,
        "height": height,
        "pixels": width * height,
        "ratio": _ratio_text(Fraction(width, height)),
        "minPixels": limits["minPixels"],
        "maxPixels": limits["maxPixels"],
        "minAspectRatio": _ratio_text(ASPECT["minAspectRatio"]),
        "maxAspectRatio": _ratio_text(ASPECT["maxAspectRatio"]),
    }
    if not limits["minPixels"] <= width * height <= limits["maxPixels"]:
        return [_violation("pixelsOutOfRange", "/size", **shown)]
    if not _aspect_within(width, height, ASPECT):
        return [_violation("aspectOutOfRange", "/size", **shown)]
    return []


def reference_too_large(index: int, size: int) -> Violation | None:
    """Checked before decoding: a file over the byte limit is refused whatever it holds."""
    if size <= REFERENCES["maxBytes"]:
        return None
    return _violation("referenceBytes", _image_path(index), index=index, size=size, **_reference_limits())


def reference_problem(index: int, image_format: str, width: int, height: int) -> Violation | None:
    """The first documented format or dimension limit a visible reference image breaks, or None."""
    path = _image_path(index)
    if image_format not in REFERENCES["formats"]:
        formats = ", ".join(REFERENCES["formats"])
        return _violation("referenceFormat", path, index=index, format=image_format, formats=formats)
    dims = {"index": index, "width": width, "height": height, **_reference_limits()}
    if min(width, height) <= REFERENCES["minSideExclusive"]:
        return _violation("referenceSides", path, **dims)
    if width * height > REFERENCES["maxPixels"]:
        return _violation("referencePixels", path, **dims)
    if not _aspect_within(width, height, REFERENCES):
        return _violation("referenceAspect", path, **dims)
    return None


def reference_unreadable(index: int, detail: str) -> Violation:
    return _violation("referenceUnreadable", _image_path(index), index=index, detail=detail)


def reference_unreachable(index: int, detail: str) -> Violation:
    return _violation("referenceUnreachable", _image_path(index), index=index, detail=detail)


def violation_situation(violation: Violation) -> str:
    return str(violation.annotation.get("situation", "invalidParameter"))


def _image_path(index: int) -> str:
    return f"/image/{index}"


def _aspect_within(width: int, height: int, bounds: Mapping[str, Any]) -> bool:
    ratio = Fraction(width, height)
    return Fraction(bounds["minAspectRatio"]) <= ratio <= Fraction(bounds["maxAspectRatio"])


def _reference_limits() -> dict[str, Any]:
    return {
        "maxBytes": REFERENCES["maxBytes"],
        "maxMegabytes": REFERENCES["maxBytes"] // 2**20,
        "minSideExclusive": REFERENCES["minSideExclusive"],
        "maxPixels": REFERENCES["maxPixels"],
        "minAspectRatio": _ratio_text(REFERENCES["minAspectRatio"]),
        "maxAspectRatio": _ratio_text(REFERENCES["maxAspectRatio"]),
    }


def _ratio_text(value: float | Fraction) -> str:
    exact = Fraction(value).limit_denominator(10_000)
    return str(exact.numerator) if exact.denominator == 1 else f"{exact.numerator}/{exact.denominator}"


def _violation(rule: str, path: str, **values: Any) -> Violation:
    template = RULES["errors"][rule]
    annotation = {key: fill(value, values) for key, value in template.items()}
    return Violation(path, annotation["message"], f"rule:{rule}", annotation)


# --- boundaries: what the harness tests clients at ------------------------------------------------------------


def boundaries() -> list[Boundary]:
    """Every limit a request can meet: the schema's, the reference count, then the pixel, aspect and reference-file
    rules (sizes on the Seedream 4.0 base request, then on Seedream 4.5)."""
    return [
        *walk(CONTRACT, REQUEST_SCHEMA),
        _reference_count(),
        *_size_boundaries(MODEL, "4.0"),
        *_size_boundaries(_model_of("4.5"), "4.5"),
        *_reference_boundaries(),
    ]


def _model_of(kind: str) -> str:
    return next(model for model, about in MODELS.items() if about["family"] == kind)


def _reference_count() -> Boundary:
    item = fixture_url(64, 64)
    return Boundary(
        f"/image maxItems {MAX_REFERENCES}",
        "maxItems",
        MAX_REFERENCES,
        {"/image": [item] * MAX_REFERENCES},
        {"/image": [item] * (MAX_REFERENCES + 1)},
    )


def _size_boundaries(model: str, kind: str) -> list[Boundary]:
    limits = FAMILIES[kind]
    low, high = limits["minPixels"], limits["maxPixels"]
    side = math.isqrt(low - 1) + 1  # the smallest square with at least `low` pixels
    top = math.isqrt(high)
    steep = Fraction(ASPECT["maxAspectRatio"])
    short = math.isqrt(math.ceil(low / steep) - 1) + 1  # the short side of the steepest shape with enough pixels
    long = int(short * steep)

    def size(what: str, bound: Any, inside: str, outside: str) -> Boundary:
        keyword = what.split()[1]
        name = f"/size {what} {bound} ({kind})"
        return Boundary(name, keyword, bound, {"/model": model, "/size": inside}, {"/model": model, "/size": outside})

    return [
        size("pixels minimum", low, f"{side}x{side}", f"{side}x{side - 1}"),
        size("pixels maximum", high, f"{top}x{top}", f"{top + 1}x{top}"),
        size("aspect maximum", ASPECT["maxAspectRatio"], f"{long}x{short}", f"{long + 1}x{short}"),
        size("aspect minimum", ASPECT["minAspectRatio"], f"{short}x{long}", f"{short}x{long + 1}"),
    ]


def _reference_boundaries() -> list[Boundary]:
    """Limits on the reference files themselves, met with fixtures of the emulator (read when the request comes)."""
    side = REFERENCES["minSideExclusive"] + 1
    steep = Fraction(REFERENCES["maxAspectRatio"])
    square = math.isqrt(REFERENCES["maxPixels"])
    long = int(side * steep)

    def reference(what: str, bound: Any, inside: Size, outside: Size) -> Boundary:
        keyword = what.split()[1]
        return Boundary(
            f"/image/0 {what} {bound}",
            keyword,
            bound,
            {"/image": [fixture_url(*inside)]},
            {"/image": [fixture_url(*outside)]},
        )

    return [
        reference("sides exclusiveMinimum", REFERENCES["minSideExclusive"], (side, side), (side - 1, side - 1)),
        reference("pixels maximum", REFERENCES["maxPixels"], (square, square), (square + 1, square)),
        reference("aspect maximum", REFERENCES["maxAspectRatio"], (long, side), (long + 1, side)),
        reference("aspect minimum", REFERENCES["minAspectRatio"], (side, long), (side, long + 1)),
    ]


# --- the generated contract document --------------------------------------------------------------------------


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    lines = [
        "Models: "
        + ", ".join(f"`{model}` (Seedream {about['family']})" for model, about in MODELS.items())
        + f"; endpoint IDs matching `{ENDPOINTS['pattern']}` run as `{ENDPOINTS['model']}`.",
        "",
        "| model | presets | WxH total pixels | aspect |",
        "|---|---|---|---|",
    ]
    for kind, limits in FAMILIES.items():
        lines.append(
            f"| Seedream {kind} | {', '.join(limits['presets'])} | {limits['minPixels']:,} to {limits['maxPixels']:,} "
            f"| {_ratio_text(ASPECT['minAspectRatio'])} to {_ratio_text(ASPECT['maxAspectRatio'])} |"
        )
    ratios = list(PRESETS["2K"])
    lines += ["", "| preset | " + " | ".join(ratios) + " |", "|---" * (len(ratios) + 1) + "|"]
    for tier, table in PRESETS.items():
        lines.append(f"| {tier} | " + " | ".join(f"{w}x{h}" for w, h in (table[r] for r in ratios)) + " |")
    reference = REFERENCES
    lines += [
        "",
        "- A preset takes the ratio nearest the first reference image the emulator can see, else 1:1. The default "
        f"size is `{DEFAULTS['size']}`.",
        f"- `sequential_image_generation: auto` makes a group: what the prompt asks for within `min(max_images "
        f'(default {DEFAULT_MAX_IMAGES}), {MAX_TOTAL} - references)`, or that bound itself with `image_count = "max"` '
        "(contracts/counts.py); `disabled` (the default) makes one image.",
        f"- Reference images (`image`: one or up to {MAX_REFERENCES}; URLs or data URIs): formats "
        f"{', '.join(reference['formats'])}; at most {reference['maxBytes']:,} bytes; width and height > "
        f"{reference['minSideExclusive']} px; at most {reference['maxPixels']:,} pixels; aspect ratio "
        f"{_ratio_text(reference['minAspectRatio'])} to {_ratio_text(reference['maxAspectRatio'])}. Public hosts are "
        "not fetched (a journal warning); unreachable ones (reserved .invalid names, internal hosts) are refused.",
        f"- `usage.output_tokens` = sum of width x height / {RULES['tokens']['pixelsPerToken']} over the images made; "
        "`total_tokens` equals it.",
        f"- `stream: true`: {RULES['stream']['description']}",
        "",
        'HTTP errors (`{"error": {"code", "message", "param", "type"}}`):',
        "",
        "| situation | status | type | code | message |",
        "|---|---|---|---|---|",
    ]
    for situation, spec in RULES["httpErrors"].items():
        lines.append(f"| {situation} | {spec['status']} | `{spec['type']}` | `{spec['code']}` | {spec['message']} |")
    lines += [
        "",
        "A failed image: " + RULES["imageErrors"]["description"],
        "",
        "HTTP status of an injected fault error -> situation: "
        + ", ".join(f"{status} {name}" for status, name in RULES["injectedErrors"].items() if status.isdigit())
        + "; other statuses answer the generic situation of their class with that status.",
    ]
    return lines
