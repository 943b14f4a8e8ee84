"""Cross-field rules for fal's Seedream apps, evaluated on inputs that already pass their app's schema.

Every number comes from `rules.json` or the schemas; this module only combines them. The emulator and the
conformance harness both use it, so an expected image size or count is computed once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

from .._loader import Violation, load
from .._text import fill
from ..boundaries import Boundary, walk
from ..counts import Mode, decide

CONTRACT = load("fal")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
APPS: Mapping[str, Mapping[str, str]] = RULES["apps"]
# The app the harness drives and whose limits `boundaries` lists; the other apps share every limit but the pixel bounds.
DEFAULT_APP = "fal-ai/bytedance/seedream/v4/text-to-image"
REQUEST_SCHEMA = APPS[DEFAULT_APP]["schema"]
PRESETS: Mapping[str, list[int]] = RULES["presets"]
AUTO_SIDES: Mapping[str, int] = RULES["autoSizes"]
MAX_REFERENCES: int = RULES["maxReferences"]
MAX_TOTAL: int = RULES["maxReferencesPlusGenerated"]
OUTPUT: Mapping[str, Any] = RULES["output"]
REFERENCES: Mapping[str, Any] = RULES["referenceImages"]
DEFAULT_SIZE: Mapping[str, int] = CONTRACT.schema(REQUEST_SCHEMA)["properties"]["image_size"]["default"]

Size = tuple[int, int]


def app(app_id: str) -> Mapping[str, str] | None:
    return APPS.get(app_id)


def defaults(app_id: str) -> dict[str, Any]:
    schema = APPS[app_id]["schema"]
    return CONTRACT.defaults(schema)


def bounds(app_id: str) -> Mapping[str, Any]:
    bound: Mapping[str, Any] = RULES["pixelBounds"][APPS[app_id]["version"]]
    return bound


def is_edit(app_id: str) -> bool:
    return "image_urls" in CONTRACT.schema(APPS[app_id]["schema"]).get("required", [])


def references(body: Mapping[str, Any]) -> list[str]:
    """The reference images an edit uses: over the limit, only the last ones (as fal documents)."""
    urls = list(body.get("image_urls") or [])
    return urls[-MAX_REFERENCES:]


def requested_size(body: Mapping[str, Any], app_id: str) -> Size | None:
    """The width and height asked for, before scaling; None for the `auto` sizes (decided by the references)."""
    size = body.get("image_size", defaults(app_id)["image_size"])
    if isinstance(size, Mapping):
        fallback = CONTRACT.schema("common")["$defs"]["imageSize"]["properties"]
        return int(size.get("width", fallback["width"]["default"])), int(
            size.get("height", fallback["height"]["default"])
        )
    if size in PRESETS:
        width, height = PRESETS[size]
        return width, height
    return None


def output_size(body: Mapping[str, Any], app_id: str, first_reference: Size | None = None) -> Size:
    """The pixel size of every image of a valid input: presets and custom sizes below the app's minimum area are
    scaled up keeping their aspect ratio; the auto sizes take the first visible reference's aspect (1:1 without)."""
    asked = requested_size(body, app_id)
    if asked is None:
        side = AUTO_SIDES[body.get("image_size", "auto_2K")]
        aspect = Fraction(*first_reference) if first_reference else Fraction(1)
        aspect = min(
            max(aspect, Fraction(bounds(app_id)["minAspectRatio"])), Fraction(bounds(app_id)["maxAspectRatio"])
        )
        height = max(1, round(side / math.sqrt(aspect)))
        width = max(1, round(side * math.sqrt(aspect)))
        return _at_least(width, height, bounds(app_id)["minPixels"])
    return _at_least(*asked, bounds(app_id)["minPixels"])


def _at_least(width: int, height: int, minimum: int) -> Size:
    if width * height >= minimum:
        return width, height
    scale = math.sqrt(minimum / (width * height))
    width, height = math.ceil(width * scale), math.ceil(height * scale)
    while width * height < minimum:  # rounding can leave it a pixel short
        width += 1
    return width, height


def per_generation(body: Mapping[str, Any], app_id: str, mode: Mode = "prompt") -> int:
    """Images one generation makes: what the prompt asks for within max_images, never above 15 - references."""
    most = int(body.get("max_images", defaults(app_id)["max_images"]))
    # A text-to-image app has no image_urls: whatever a body carries under that name is an unknown field, not read.
    room = MAX_TOTAL - (len(references(body)) if is_edit(app_id) else 0)
    return decide(body["prompt"], max(1, min(most, room)), mode)


def image_count(body: Mapping[str, Any], app_id: str, mode: Mode = "prompt") -> int:
    """Images a valid input yields: num_images generations of `per_generation` images each."""
    return int(body.get("num_images", defaults(app_id)["num_images"])) * per_generation(body, app_id, mode)


def check(body: Mapping[str, Any], app_id: str) -> list[Violation]:
    """Cross-field violations of a schema-valid input: the area and aspect ratio of a custom size."""
    asked = requested_size(body, app_id)
    if asked is None or not isinstance(body.get("image_size", defaults(app_id)["image_size"]), Mapping):
        return []
    width, height = asked
    limit = bounds(app_id)
    shown = {
        "width": width,
        "height": height,
        "pixels": width * height,
        "maxPixels": limit["maxPixels"],
        "minAspectRatio": _ratio_text(limit["minAspectRatio"]),
        "maxAspectRatio": _ratio_text(limit["maxAspectRatio"]),
    }
    if width * height > limit["maxPixels"]:
        return [violation("pixelsTooMany", **shown)]
    if not Fraction(limit["minAspectRatio"]) <= Fraction(width, height) <= Fraction(limit["maxAspectRatio"]):
        return [violation("aspect", **shown)]
    return []


def unreachable(url: str) -> bool:
    """A reference URL the emulator knows cannot be downloaded (reserved .invalid names)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host.lower().rstrip(".").endswith(tuple(REFERENCES["unreachableHostSuffixes"]))


def violation(rule: str, index: int | None = None, **values: Any) -> Violation:
    """A rule's violation; `loc` names the field (and the reference's index, for image_urls)."""
    template = RULES["errors"][rule]
    message = fill(template["message"], {"index": index, **values})
    loc = [template["loc"]] if index is None else [template["loc"], index]
    annotation = {"loc": loc, "type": template["type"], "message": message, "ctx": values}
    path = "/" + "/".join(str(part) for part in loc)
    return Violation(path, message, f"rule:{rule}", annotation)


def _ratio_text(value: float | Fraction) -> str:
    exact = Fraction(value).limit_denominator(10_000)
    return str(exact.numerator) if exact.denominator == 1 else f"{exact.numerator}/{exact.denominator}"


def boundaries() -> list[Boundary]:
    """Every limit of the default app's input: the schema's, then the area and aspect rules of custom sizes."""
    limit = bounds(DEFAULT_APP)
    top = math.isqrt(limit["maxPixels"])
    steep = int(limit["maxAspectRatio"])
    short = 256
    return [
        *walk(CONTRACT, REQUEST_SCHEMA),
        _size("pixels maximum", limit["maxPixels"], (top, top), (top + 1, top)),
        _size("aspect maximum", limit["maxAspectRatio"], (short * steep, short), (short * steep + 1, short)),
        _size("aspect minimum", limit["minAspectRatio"], (short, short * steep), (short, short * steep + 1)),
    ]


def _size(what: str, bound: Any, inside: Size, outside: Size) -> Boundary:
    keyword = what.split()[1]
    return Boundary(
        f"/image_size {what} {bound}",
        keyword,
        bound,
        {"/image_size": {"width": inside[0], "height": inside[1]}},
        {"/image_size": {"width": outside[0], "height": outside[1]}},
    )


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    lines = ["| app | input schema | model | min pixels (scaled up to) | max pixels |", "|---|---|---|---|---|"]
    for app_id, spec in APPS.items():
        limit = bounds(app_id)
        lines.append(
            f"| `{app_id}` | `{spec['schema']}` | {spec['model']} | {limit['minPixels']:,} | {limit['maxPixels']:,} |"
        )
    lines += [
        "",
        "- `image_size` presets before scaling: "
        + ", ".join(f"`{name}` {w}x{h}" for name, (w, h) in PRESETS.items())
        + "; `auto`/`auto_2K`/`auto_4K` make an image of about "
        + ", ".join(f"{side}x{side}" for side in AUTO_SIDES.values())
        + " pixels in the first reference's aspect ratio (1:1 without one).",
        f"- A size below the app's minimum area is scaled up keeping its aspect ratio; a custom size above "
        f"{bounds(DEFAULT_APP)['maxPixels']:,} pixels, or with an aspect ratio outside "
        f"{_ratio_text(bounds(DEFAULT_APP)['minAspectRatio'])}..{_ratio_text(bounds(DEFAULT_APP)['maxAspectRatio'])}, is a 422.",
        f"- Images: `num_images` generations of what the prompt asks for within `min(max_images, {MAX_TOTAL} - "
        f"references)` (contracts/counts.py); edits use the last {MAX_REFERENCES} of `image_urls`.",
        f"- Output: {OUTPUT['contentType']}; URLs valid {RULES['resultTtlSeconds']} s; `sync_mode` returns data URIs.",
        f"- Webhook (`?fal_webhook=`): {RULES['webhook']['description']}",
    ]
    return lines
