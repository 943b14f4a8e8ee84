"""Cross-field rules for Runware Seedream tasks, evaluated on tasks that already pass the schema.

Every number comes from `rules.json` or the schemas; this module only combines them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .._loader import Violation, load
from .._text import fill
from ..boundaries import Boundary, Patch, example, walk
from ..counts import Mode, ask, decide

CONTRACT = load("runware")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
REQUEST_SCHEMA = "imageInference"
MAX_REFERENCES: int = CONTRACT.schema("common")["$defs"]["referenceImages"]["maxItems"]
DEFAULT_RESULTS: int = CONTRACT.defaults(REQUEST_SCHEMA)["numberResults"]
PROPERTIES: Mapping[str, Any] = CONTRACT.schema(REQUEST_SCHEMA)["properties"]
SEQUENTIAL: Mapping[str, Any] = PROPERTIES["providerSettings"]["properties"]["bytedance"]["properties"][
    "maxSequentialImages"
]
INPUTS: frozenset[str] = frozenset(PROPERTIES["inputs"]["properties"])
# The smallest valid task, and a reference image Runware reads without a journal warning (a data URI).
_EXAMPLE = example(CONTRACT, REQUEST_SCHEMA)
_REFERENCE: str = CONTRACT.schema("common")["$defs"]["referenceImages"]["items"]["examples"][0]
LENIENCY: Mapping[str, Any] = RULES["leniency"]
TARGETS: Mapping[str, Any] = RULES["targets"]

Size = tuple[int, int]
_TABLE: dict[Size, None] = {
    (width, height): None for ratios in RULES["sizeTable"].values() for width, height in ratios.values()
}


def model_rules(model: str) -> Mapping[str, Any]:
    rules: Mapping[str, Any] = RULES["models"][model]
    return rules


def price(model: str) -> float:
    return float(model_rules(model)["price"])


def documentation(model: str, anchor: str | None = None) -> str:
    base = model_rules(model)["documentation"]
    return f"{base}#{anchor}" if anchor else base


def table_sizes() -> list[Size]:
    return list(_TABLE)


# A task is parsed JSON, so its objects are dicts: `isinstance(x, dict)`, not `Mapping`, whose check is a Python-level
# call (ABCMeta.__instancecheck__), ten of them for every task served.


def reference_images(task: Mapping[str, Any]) -> list[str]:
    """The task's references, from `inputs.referenceImages` (documented) or top-level `referenceImages` (the 4.5
    page's examples); a valid task uses one place only. Object items give their `image`."""
    inputs = task.get("inputs")
    nested = inputs.get("referenceImages") if isinstance(inputs, dict) else None
    found = nested if nested is not None else task.get("referenceImages", [])
    return [item["image"] if isinstance(item, dict) else item for item in found]


def references_in_two_places(task: Mapping[str, Any]) -> bool:
    inputs = task.get("inputs")
    return "referenceImages" in task and isinstance(inputs, dict) and "referenceImages" in inputs


def max_sequential_images(task: Mapping[str, Any]) -> int | None:
    settings = task.get("providerSettings")
    bytedance = settings.get("bytedance") if isinstance(settings, dict) else None
    value = bytedance.get("maxSequentialImages") if isinstance(bytedance, dict) else None
    return int(value) if value is not None else None


def sequence_cap(task: Mapping[str, Any]) -> int | None:
    """The most images one generation may make: maxSequentialImages within the references + generated budget;
    None without sequential generation."""
    sequential = max_sequential_images(task)
    if sequential is None:
        return None
    room = int(RULES["maxReferencesPlusSequential"]) - len(reference_images(task))
    return max(1, min(sequential, room))


def images_per_result(task: Mapping[str, Any], mode: Mode = "prompt", prompt: str | None = None) -> int:
    """Images one of the numberResults generations makes: maxSequentialImages is an upper bound ("the model may
    generate fewer images than requested"), so the prompt decides within it; one without sequential generation.
    `prompt`: the prompt as the model reads it (the emulator strips its directives), else the task's."""
    cap = sequence_cap(task)
    if cap is None:
        return 1
    return decide(task["positivePrompt"] if prompt is None else prompt, cap, mode)


def image_count(task: Mapping[str, Any], mode: Mode = "prompt", prompt: str | None = None) -> int:
    """Images a valid task yields: numberResults (exact) generations of images_per_result each."""
    return int(task.get("numberResults", DEFAULT_RESULTS)) * images_per_result(task, mode, prompt)


def check(task: Mapping[str, Any], *, strict_sizes: bool = True) -> list[Violation]:
    if references_in_two_places(task):
        return [_violation("referencesInTwoPlaces", "/referenceImages", task["model"])]
    return [*_check_dimensions(task, strict_sizes), *_check_references(task)]


def leniency(task: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Journal warnings and notes for a valid task: keys the model's documentation does not list (served and
    ignored, so warned about), and Runware platform fields the emulator ignores (noted)."""
    model = task["model"]
    warnings: list[str] = []
    notes: list[str] = []
    for key in task:
        if key in LENIENCY["ignoredKeys"]:
            notes.append(fill(LENIENCY["notes"]["ignoredKey"], {"key": key, "model": model}))
        elif key not in PROPERTIES:
            warnings.append(_unknown(key, model))
    inputs = task.get("inputs")
    if isinstance(inputs, dict):
        warnings += [_unknown(f"inputs.{key}", model) for key in inputs if key not in INPUTS]
    settings = task.get("providerSettings")
    if isinstance(settings, dict):
        for provider, values in settings.items():
            if provider != "bytedance":
                warnings.append(fill(LENIENCY["warnings"]["otherProvider"], {"provider": provider, "model": model}))
            elif isinstance(values, dict):
                warnings += [
                    _bytedance_setting(key, model)
                    for key in values
                    if key not in model_rules(model)["bytedanceSettings"]
                ]
    return warnings, notes


def _unknown(key: str, model: str) -> str:
    return str(fill(LENIENCY["warnings"]["unknownKey"], {"key": key, "model": model}))


def _bytedance_setting(key: str, model: str) -> str:
    documented = [name for name, spec in RULES["models"].items() if key in spec["bytedanceSettings"]]
    if not documented:
        return _unknown(f"providerSettings.bytedance.{key}", model)
    values = {"key": f"providerSettings.bytedance.{key}", "models": documented, "model": model}
    return str(fill(LENIENCY["warnings"]["otherModelSetting"], values))


def target_warning(parameter: str, kind: str, url: str, host: str | None) -> str:
    """The journal warning for a webhookURL / uploadEndpoint target served only because --strict is off."""
    problem = fill(TARGETS["problems"][kind], {"url": url, "host": host})
    return str(fill(TARGETS["warning"], {"parameter": parameter, "problem": problem, "fact": TARGETS["facts"][kind]}))


def target_violation(parameter: str, kind: str, url: str, host: str | None, model: str) -> Violation:
    """The refusal of a webhookURL / uploadEndpoint target under --strict (and in the harness)."""
    problem = fill(TARGETS["problems"][kind], {"url": url, "host": host})
    values = {
        "parameter": parameter,
        "Parameter": parameter[:1].upper() + parameter[1:],
        "anchor": parameter.lower(),
        "problem": problem,
    }
    return _violation("targetRefused", f"/{parameter}", model, **values)


def output_size(task: Mapping[str, Any], first_reference: Size | None) -> Size:
    """The pixel size of every image of a valid task."""
    if "width" in task and "height" in task:
        return int(task["width"]), int(task["height"])
    tier = task.get("resolution") or RULES["defaultTier"]
    ratios: Mapping[str, list[int]] = RULES["sizeTable"][tier]
    if first_reference is None:
        width, height = ratios[RULES["defaultAspectRatio"]]
        return width, height
    target = math.log(first_reference[0] / first_reference[1])
    width, height = min(ratios.values(), key=lambda pair: abs(math.log(pair[0] / pair[1]) - target))
    return width, height


def _violation(rule: str, path: str, for_model: str | None = None, **values: Any) -> Violation:
    template = RULES["errors"][rule]
    annotation = {key: fill(value, values) for key, value in template.items()}
    if for_model is not None:
        annotation["documentation"] = documentation(for_model, annotation.get("anchor"))
    return Violation(path, annotation["message"], f"rule:{rule}", annotation)


def _check_dimensions(task: Mapping[str, Any], strict_sizes: bool) -> list[Violation]:
    model = task["model"]
    rules = model_rules(model)
    has_width, has_height = "width" in task, "height" in task
    if has_width != has_height:
        other = "height" if has_width else "width"
        return [_violation("missingPair", f"/{other}", model, other=other, Other=other.capitalize())]
    if not has_width:
        has_preset = rules["resolutionPresets"] and "resolution" in task
        if has_preset or reference_images(task):
            return []
        return [_violation("missingDimensions", "", model)]
    size = int(task["width"]), int(task["height"])
    if rules["dimensions"] != "table":
        return _check_pixels(model, rules, size)
    if not strict_sizes:
        return _check_pixels(model, rules["lenientBounds"], size)
    if size in _TABLE:
        return []
    listed = ", ".join(f"{w}x{h}" for w, h in table_sizes())
    return [_violation("sizeNotInTable", "/width", model, model=model, sizes=listed)]


def _check_pixels(model: str, bounds: Mapping[str, Any], size: Size) -> list[Violation]:
    width, height = size
    if not bounds["minPixels"] <= width * height <= bounds["maxPixels"]:
        return [_violation("pixelsOutOfRange", "/width", model, **bounds)]
    if "maxSide" in bounds and max(width, height) > bounds["maxSide"]:
        return [_violation("sideOutOfRange", "/width", model, **bounds)]
    low, high = bounds.get("minAspectRatio"), bounds.get("maxAspectRatio")
    if low is not None and high is not None and not low <= width / height <= high:
        return [_violation("aspectOutOfRange", "/width", model, **bounds)]
    return []


def _check_references(task: Mapping[str, Any]) -> list[Violation]:
    model = task["model"]
    count = len(reference_images(task))  # at most MAX_REFERENCES: the schema bounds each place, and one is used
    sequential = max_sequential_images(task)
    limit = RULES["maxReferencesPlusSequential"]
    if sequential is not None and count + sequential > limit:
        return [
            _violation(
                "referencesPlusSequential",
                "/providerSettings/bytedance/maxSequentialImages",
                model,
                references=count,
                sequential=sequential,
                limit=limit,
            )
        ]
    return []


def boundaries() -> list[Boundary]:
    """Every limit a task can meet under production rules, each just inside and just outside: the schema's (its
    model-bound enums moved to a model that serves them), then the 4.0 size table's extremes, the 4.5 pixel, side
    and aspect bounds, references + maxSequentialImages, and references in one place."""
    return [
        *(_servable(boundary) for boundary in walk(CONTRACT, REQUEST_SCHEMA)),
        *(found for model in RULES["models"] for found in _size_boundaries(model)),
        _sequence_boundary(),
        _places_boundary(),
    ]


def smallest_size(model: str) -> Size:
    """The size of fewest pixels `model` serves (the squarest one, for pixel bounds)."""
    spec = model_rules(model)
    if spec["dimensions"] == "table":
        return min(table_sizes(), key=lambda size: size[0] * size[1])
    side = math.isqrt(spec["minPixels"] - 1) + 1
    return side, side


def _servable(boundary: Boundary) -> Boundary:
    """`boundary`, with its inside (and, where needed, outside) moved to a model that serves the value when the
    example task's model does not: `resolution` presets and model-specific provider settings."""
    path = boundary.name.split(" ", 1)[0]
    setting = path.removeprefix("/providerSettings/bytedance/")
    if path == "/model":
        model = boundary.inside[path]
        return _replace(boundary, {**_on(model), path: model}, boundary.outside)
    if path == "/resolution":
        model = next(name for name, spec in RULES["models"].items() if spec["resolutionPresets"])
        preset = boundary.inside[path]
        width, height = output_size({"resolution": preset}, None)  # the size the preset gives, so both agree
        moved = {**_on(model), "/width": width, "/height": height}
        assert boundary.outside is not None
        return _replace(boundary, {**moved, path: preset}, {**moved, path: boundary.outside[path]})
    if setting != path and setting not in model_rules(_EXAMPLE["model"])["bytedanceSettings"]:
        model = next(name for name, spec in RULES["models"].items() if setting in spec["bytedanceSettings"])
        return _replace(boundary, {**_on(model), **boundary.inside}, boundary.outside)
    return boundary


def _on(model: str) -> dict[str, Any]:
    """A patch moving the example task to `model`, at the smallest size it serves."""
    width, height = smallest_size(model)
    return {"/model": model, "/width": width, "/height": height}


def _replace(boundary: Boundary, inside: Patch, outside: Patch | None) -> Boundary:
    return Boundary(boundary.name, boundary.keyword, boundary.bound, inside, outside, boundary.refused_by)


def _size_boundaries(model: str) -> list[Boundary]:
    spec = model_rules(model)
    if spec["dimensions"] == "table":
        return _table_boundaries(model)
    low, high, top = spec["minPixels"], spec["maxPixels"], spec["maxSide"]
    side = smallest_size(model)[0]
    square = math.isqrt(high)
    steep = Fraction(spec["maxAspectRatio"])
    flat = Fraction(spec["minAspectRatio"])
    short = math.isqrt(math.ceil(low / steep) - 1) + 1  # the short side of the steepest shape with enough pixels
    narrow = math.ceil(top / steep)  # the other side of the longest one within the aspect bound
    return [
        _size(model, "pixels minimum", low, (side, side), (side, side - 1)),
        _size(model, "pixels maximum", high, (square, square), (square + 1, square)),
        _size(
            model,
            "aspect maximum",
            spec["maxAspectRatio"],
            (int(short * steep), short),
            (int(short * steep) + 1, short),
        ),
        _size(
            model, "aspect minimum", spec["minAspectRatio"], (short, int(short / flat)), (short, int(short / flat) + 1)
        ),
        _size(model, "side maximum", top, (top, narrow), (top + 1, narrow)),
    ]


def _table_boundaries(model: str) -> list[Boundary]:
    """A table has no bounds of its own: its extreme pairs are served, and one pixel beyond each is not."""
    sizes = table_sizes()
    fewest = min(sizes, key=lambda size: size[0] * size[1])
    most = max(sizes, key=lambda size: size[0] * size[1])
    widest = max(sizes, key=lambda size: Fraction(*size))
    tallest = min(sizes, key=lambda size: Fraction(*size))

    def pair(what: str, inside: Size, outside: Size) -> Boundary:
        return _size(model, f"table {what}", f"{inside[0]}x{inside[1]}", inside, outside)

    return [
        pair("pixels minimum", fewest, (fewest[0], fewest[1] - 1)),
        pair("pixels maximum", most, (most[0] + 1, most[1])),
        pair("aspect maximum", widest, (widest[0] + 1, widest[1])),
        pair("aspect minimum", tallest, (tallest[0], tallest[1] + 1)),
    ]


def _size(model: str, what: str, bound: Any, inside: Size, outside: Size) -> Boundary:
    keyword = what.split()[-1]

    def patch(size: Size) -> dict[str, Any]:
        return {"/model": model, "/width": size[0], "/height": size[1]}

    return Boundary(f"/width {model} {what} {bound}", keyword, bound, patch(inside), patch(outside))


def _sequence_boundary() -> Boundary:
    """References + maxSequentialImages: the fewest references that let maxSequentialImages (within its own
    schema bound) cross the budget; the prompt asks for the whole sequence, so inside the model makes all of it."""
    limit = RULES["maxReferencesPlusSequential"]
    references = max(1, limit + 1 - SEQUENTIAL["maximum"])
    at = "/providerSettings/bytedance/maxSequentialImages"

    def patch(sequential: int) -> dict[str, Any]:
        return {
            "/positivePrompt": ask(_EXAMPLE["positivePrompt"], sequential),
            "/inputs/referenceImages": [_REFERENCE] * references,
            at: sequential,
        }

    return Boundary(
        f"{at} references+sequential maximum {limit}",
        "maximum",
        limit,
        patch(limit - references),
        patch(limit + 1 - references),
    )


def _places_boundary() -> Boundary:
    """Reference images in one place: at the top level or under inputs, never both."""
    return Boundary(
        "/referenceImages places maximum 1",
        "maximum",
        1,
        {"/referenceImages": [_REFERENCE]},
        {"/referenceImages": [_REFERENCE], "/inputs/referenceImages": [_REFERENCE]},
    )


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    lines = ["| model | price per image | sizes |", "|---|---|---|"]
    for model, rules in RULES["models"].items():
        if rules["dimensions"] == "table":
            sizes = f"the {len(_TABLE)} pairs below (lenient mode: {_bounds(rules['lenientBounds'])})"
        else:
            presets = CONTRACT.schema("imageInference")["properties"]["resolution"]["enum"]
            sizes = f"{_bounds(rules)}; or `resolution` {' / '.join(presets)} presets"
        lines.append(f"| `{model}` ({rules['name']}) | {rules['price']} | {sizes} |")
    lines += ["", "| tier | " + " | ".join(RULES["sizeTable"]["2K"]) + " |", "|---" * 9 + "|"]
    for tier, ratios in RULES["sizeTable"].items():
        cells = [f"{ratios[r][0]}x{ratios[r][1]}" if r in ratios else "" for r in RULES["sizeTable"]["2K"]]
        lines.append(f"| {tier} | " + " | ".join(cells) + " |")
    lines += [
        "",
        (
            f"- Reference images: at most {MAX_REFERENCES}, under `inputs.referenceImages` or top-level "
            "`referenceImages`; both in one task is `invalidReferenceImages`."
        ),
        f"- References + `maxSequentialImages` <= {RULES['maxReferencesPlusSequential']}.",
        f"- {RULES['imageCount']['description']}",
        f"- {RULES['referenceDownload']['description']}",
        f"- {LENIENCY['description']} Ignored platform fields: "
        + ", ".join(f"`{key}`" for key in LENIENCY["ignoredKeys"])
        + ". Provider settings per model: "
        + "; ".join(f"`{model}` " + ", ".join(spec["bytedanceSettings"]) for model, spec in RULES["models"].items())
        + ".",
        f"- {TARGETS['description']}",
        (
            f"- Without width/height, presets and references take the `{RULES['defaultTier']}` tier at the first "
            f"reference's nearest aspect ratio ({RULES['defaultAspectRatio']} when unknown)."
        ),
    ]
    socket = RULES["websocket"]
    lines.append(
        f"- WebSocket: closed {socket['idleSeconds']} s after the last message; undelivered results kept "
        f"{socket['bufferSeconds']} s for a client resuming its connectionSessionUUID."
    )
    lines.append(
        "- Failed generations by failure kind: "
        + ", ".join(
            f"`{kind}` -> `{spec['code']}`"
            for kind, spec in RULES["failures"].items()
            if isinstance(spec, dict) and kind != "default"
        )
        + "; other kinds are used as the code."
    )
    lines.append(
        "- Injected HTTP errors by status: "
        + ", ".join(f"{status} `{spec['code']}`" for status, spec in RULES["httpErrors"].items() if status.isdigit())
        + "."
    )
    for name, policy in RULES["delivery"].items():
        lines.append(
            f"- Delivery `{name}` ({policy['maxAttempts']} attempts, {policy['timeout']} s timeout each): {policy['description']}"
        )
    return lines


def _bounds(rules: Mapping[str, Any]) -> str:
    text = f"{rules['minPixels']:,} to {rules['maxPixels']:,} pixels"
    if "maxSide" in rules:
        text += f", sides at most {rules['maxSide']}"
    if "minAspectRatio" in rules:
        text += f", aspect ratio {rules['minAspectRatio']} to {rules['maxAspectRatio']}"
    return text
