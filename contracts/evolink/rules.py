"""Cross-field rules for EvoLink doubao-seedream-4.0 tasks, evaluated on bodies that already pass the schema.

Every number comes from `rules.json` or the schemas; this module only combines them. The emulator
and the conformance harness both use it, so an expected image size or count is computed once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

from .._loader import Violation, load
from .._text import fill
from ..addresses import host_of, is_internal_host
from ..boundaries import Boundary, walk
from ..counts import Mode, decide
from ..fixtures import fixture_url

CONTRACT = load("evolink")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
REQUEST_SCHEMA = "imageGeneration"
REQUEST: Mapping[str, Any] = CONTRACT.schema(REQUEST_SCHEMA)
DEFAULTS: Mapping[str, Any] = CONTRACT.defaults("imageGeneration")
MODEL: str = RULES["model"]
MAX_REFERENCES: int = REQUEST["properties"]["image_urls"]["maxItems"]
MAX_TOTAL: int = RULES["maxReferencesPlusGenerated"]
SIZE_TABLE: Mapping[str, Mapping[str, list[int]]] = RULES["sizeTable"]
QUALITIES: list[str] = REQUEST["properties"]["quality"]["enum"]
SIZE_FORMS: list[Mapping[str, Any]] = REQUEST["properties"]["size"]["anyOf"]
RATIO_SIZES: list[str] = SIZE_FORMS[0]["enum"]
PIXELS = re.compile(r"^(\d+)x(\d+)$")
REFERENCES: Mapping[str, Any] = RULES["referenceImages"]
CALLBACK: Mapping[str, Any] = RULES["callback"]
TOKENS: Mapping[str, Any] = RULES["promptTokens"]
WIDE_RANGES: list[tuple[int, int]] = [(int(low, 16), int(high, 16)) for low, high in TOKENS["cjkRanges"]]
UNIT_PRICE: float = RULES["billing"]["unitPrice"]

Size = tuple[int, int]


def credits(images: int) -> float:
    """Credits for `images` images at the documented unit price, without float noise (13 x 1.8 = 23.4)."""
    return round(images * UNIT_PRICE, 6)


def pixel_size(size: str) -> Size | None:
    match = PIXELS.match(size)
    return (int(match.group(1)), int(match.group(2))) if match else None


def nearest_ratio(reference: Size) -> str:
    """The table ratio whose aspect is nearest (in log space) to a reference image's."""
    target = math.log(reference[0] / reference[1])
    return min(SIZE_TABLE, key=lambda ratio: abs(math.log(_ratio_value(ratio)) - target))


def output_size(body: Mapping[str, Any], first_reference: Size | None = None) -> Size:
    """The pixel size of every image of a valid body; `first_reference` is the first visible reference's size."""
    size = body.get("size", DEFAULTS["size"])
    quality = body.get("quality", DEFAULTS["quality"])
    pixels = pixel_size(size)
    if pixels is not None:
        return pixels
    if size == "auto":
        size = nearest_ratio(first_reference) if first_reference else RULES["autoSize"]["fallbackRatio"]
    width, height = SIZE_TABLE[size][quality]
    return width, height


def image_count(body: Mapping[str, Any], mode: Mode = "prompt") -> int:
    """Images a valid body yields: `n` is an upper bound the prompt decides within, never above 15 - references."""
    n = int(body.get("n", DEFAULTS["n"]))
    room = MAX_TOTAL - len(body.get("image_urls") or [])
    return decide(body["prompt"], max(1, min(n, room)), mode)


def check(body: Mapping[str, Any], *, strict: bool, exempt: bool = False) -> tuple[list[Violation], list[str]]:
    """Cross-field violations of a schema-valid body, and fidelity warnings for what only lenient mode admits.

    `exempt`: the callback URL is one the emulator's operator exempted (the harness's own receiver)."""
    violations = [*_check_size(body), *_check_prompt_tokens(body["prompt"])]
    warnings = [
        fill(RULES["referenceWarnings"]["dataUri"], {"index": index})
        for index, url in enumerate(body.get("image_urls") or [])
        if url[:5].lower() == "data:"
    ]
    if "callback_url" in body:
        found, warned = check_callback(body["callback_url"], strict=strict, exempt=exempt)
        violations += found
        warnings += warned
    return violations, warnings


def prompt_tokens(prompt: str) -> int:
    """A token estimate at least as strict as the provider's tokenizer: each CJK, kana or hangul character
    counts as TOKENS["cjkCharacter"] tokens, every other run of text as one token per TOKENS["otherCharacters"]
    characters, rounded up."""
    wide = sum(1 for char in prompt if _wide(char))
    other = len(prompt) - wide
    return math.ceil(wide * float(TOKENS["cjkCharacter"]) + other / float(TOKENS["otherCharacters"]))


def _check_prompt_tokens(prompt: str) -> list[Violation]:
    tokens = prompt_tokens(prompt)
    if tokens <= TOKENS["maxTokens"]:
        return []
    return [_violation("promptTokens", "/prompt", tokens=tokens, maxTokens=TOKENS["maxTokens"])]


def _wide(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in WIDE_RANGES)


def check_callback(url: str, *, strict: bool, exempt: bool = False) -> tuple[list[Violation], list[str]]:
    """EvoLink's callback rules: HTTPS only, no internal addresses however spelled. Lenient mode admits http
    and internal targets (local receivers) with a warning; other schemes are refused in both modes."""
    host = host_of(url)
    if not host:
        return [_violation("callbackMalformed", "/callback_url")], []
    scheme = urlsplit(url.strip()).scheme.lower()
    allowed = CALLBACK["schemes"] if strict and not exempt else CALLBACK["lenientSchemes"]
    if scheme not in allowed:
        schemes = " or ".join(f"{name}://" for name in CALLBACK["schemes"])
        return [_violation("callbackScheme", "/callback_url", schemes=schemes, scheme=scheme)], []
    if exempt:
        return [], []
    warnings = []
    if scheme not in CALLBACK["schemes"]:
        warnings.append(fill(RULES["callbackWarnings"]["scheme"], {"url": url, "scheme": scheme}))
    if is_internal_host(host):
        if strict:
            return [_violation("callbackInternal", "/callback_url", host=host)], []
        warnings.append(fill(RULES["callbackWarnings"]["internal"], {"url": url, "host": host}))
    return [], warnings


def unreachable(url: str) -> bool:
    """A reference URL the emulator knows cannot be downloaded (reserved .invalid names)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    return host.lower().rstrip(".").endswith(tuple(REFERENCES["unreachableHostSuffixes"]))


def reference_too_large(index: int, size: int) -> Violation | None:
    """Checked before decoding: a file over the byte limit is refused whatever it holds."""
    if size <= REFERENCES["maxBytes"]:
        return None
    return _violation("referenceBytes", f"/image_urls/{index}", index=index, size=size, **_reference_limits())


def reference_problem(index: int, image_format: str, width: int, height: int) -> Violation | None:
    """The first documented format or dimension limit a visible reference image breaks, or None."""
    path = f"/image_urls/{index}"
    if image_format not in REFERENCES["formats"]:
        formats = ", ".join(REFERENCES["formats"])
        return _violation("referenceFormat", path, index=index, format=image_format.upper(), formats=formats)
    dims = {"index": index, "width": width, "height": height, **_reference_limits()}
    if min(width, height) <= REFERENCES["minSideExclusive"]:
        return _violation("referenceSides", path, **dims)
    if width * height > REFERENCES["maxPixels"]:
        return _violation("referencePixels", path, **dims)
    if not _aspect_within(width, height, REFERENCES):
        return _violation("referenceAspect", path, **dims)
    return None


def reference_unreadable(index: int, detail: str) -> Violation:
    return _violation("referenceUnreadable", f"/image_urls/{index}", index=index, detail=detail)


def violation_situation(violation: Violation) -> str:
    return str(violation.annotation.get("situation", "invalidRequest"))


def _check_size(body: Mapping[str, Any]) -> list[Violation]:
    pixels = pixel_size(body.get("size", DEFAULTS["size"]))
    if pixels is None:
        return []
    width, height = pixels
    bounds = RULES["pixelSize"]
    shown = {
        "width": width,
        "height": height,
        "pixels": width * height,
        "ratio": _ratio_text(Fraction(width, height)),
        "minPixels": bounds["minPixels"],
        "maxPixels": bounds["maxPixels"],
        "minAspectRatio": _ratio_text(bounds["minAspectRatio"]),
        "maxAspectRatio": _ratio_text(bounds["maxAspectRatio"]),
    }
    if not bounds["minPixels"] <= width * height <= bounds["maxPixels"]:
        return [_violation("pixelsOutOfRange", "/size", **shown)]
    if not _aspect_within(width, height, bounds):
        return [_violation("aspectOutOfRange", "/size", **shown)]
    return []


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


def _ratio_value(ratio: str) -> float:
    width, height = ratio.split(":")
    return int(width) / int(height)


def _ratio_text(value: float | Fraction) -> str:
    exact = Fraction(value).limit_denominator(10_000)
    return str(exact.numerator) if exact.denominator == 1 else f"{exact.numerator}/{exact.denominator}"


def _violation(rule: str, path: str, **values: Any) -> Violation:
    template = RULES["errors"][rule]
    annotation = {key: fill(value, values) for key, value in template.items()}
    return Violation(path, annotation["message"], f"rule:{rule}", annotation)


def reference_limit_values() -> dict[str, Any]:
    return _reference_limits()


def boundaries() -> list[Boundary]:
    """Every limit a request can meet: the schema's, then the pixel, aspect, token and reference-file rules."""
    return [*walk(CONTRACT, REQUEST_SCHEMA), *_size_boundaries(), _token_boundary(), *_reference_boundaries()]


def _size_boundaries() -> list[Boundary]:
    bounds = RULES["pixelSize"]
    low, high = bounds["minPixels"], bounds["maxPixels"]
    side = math.isqrt(low - 1) + 1  # the smallest square with at least `low` pixels
    top = math.isqrt(high)
    steep = Fraction(bounds["maxAspectRatio"])
    short = math.isqrt(math.ceil(low / steep) - 1) + 1  # the short side of the steepest shape with enough pixels
    long = int(short * steep)
    return [
        _size("pixels minimum", low, f"{side}x{side}", f"{side}x{side - 1}"),
        _size("pixels maximum", high, f"{top}x{top}", f"{top + 1}x{top}"),
        _size("aspect maximum", bounds["maxAspectRatio"], f"{long}x{short}", f"{long + 1}x{short}"),
        _size("aspect minimum", bounds["minAspectRatio"], f"{short}x{long}", f"{short}x{long + 1}"),
    ]


def _size(what: str, bound: Any, inside: str, outside: str) -> Boundary:
    keyword = what.split()[1]
    return Boundary(f"/size {what} {bound}", keyword, bound, {"/size": inside}, {"/size": outside})


def _token_boundary() -> Boundary:
    most = math.floor(TOKENS["maxTokens"] / TOKENS["cjkCharacter"])  # CJK characters, the dearest per character
    return Boundary(
        f"/prompt tokens maximum {TOKENS['maxTokens']}",
        "maximum",
        TOKENS["maxTokens"],
        {"/prompt": "灯" * most},
        {"/prompt": "灯" * (most + 1)},
    )


def _reference_boundaries() -> list[Boundary]:
    """Limits on the reference files themselves, met with fixtures of the emulator (read when the task is made)."""
    side = REFERENCES["minSideExclusive"] + 1
    steep = Fraction(REFERENCES["maxAspectRatio"])
    square = math.isqrt(REFERENCES["maxPixels"])
    long = int(side * steep)

    def reference(what: str, bound: Any, inside: tuple[int, int], outside: tuple[int, int]) -> Boundary:
        keyword = what.split()[1]
        return Boundary(
            f"/image_urls/0 {what} {bound}",
            keyword,
            bound,
            {"/image_urls": [fixture_url(*inside)]},
            {"/image_urls": [fixture_url(*outside)]},
        )

    return [
        reference("sides exclusiveMinimum", REFERENCES["minSideExclusive"], (side, side), (side - 1, side - 1)),
        reference("pixels maximum", REFERENCES["maxPixels"], (square, square), (square + 1, square)),
        reference("aspect maximum", REFERENCES["maxAspectRatio"], (long, side), (long + 1, side)),
        reference("aspect minimum", REFERENCES["minAspectRatio"], (side, long), (side, long + 1)),
    ]


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    lines = [f"Model `{MODEL}`.", "", "| ratio | " + " | ".join(QUALITIES) + " |", "|---" * (len(QUALITIES) + 1) + "|"]
    for ratio, tiers in SIZE_TABLE.items():
        lines.append(f"| `{ratio}` | " + " | ".join(f"{w}x{h}" for w, h in (tiers[q] for q in QUALITIES)) + " |")
    reference = REFERENCES
    billing = RULES["billing"]
    delivery = CALLBACK
    lines += [
        "",
        f"- `size` ratio form uses the table above at `quality` (default `{DEFAULTS['quality']}`); `auto` (the "
        f"default) takes the ratio nearest the first visible reference image, else `{RULES['autoSize']['fallbackRatio']}`.",
        f"- References + generated images <= {MAX_TOTAL}: `n` is an upper bound; a task makes what the prompt asks "
        f'for ("generate 2 different images"; 1 when it asks for no number) within `min(n, {MAX_TOTAL} - '
        'len(image_urls))`, or that bound itself with `image_count = "max"` (contracts/counts.py).',
        f"- `prompt`: at most {TOKENS['maxTokens']} tokens, estimated as {TOKENS['cjkCharacter']} per CJK, kana or "
        f"hangul character and 1 per {TOKENS['otherCharacters']} other characters (rounded up).",
        f"- Reference images (data URIs, with a journal warning since the seed documents URLs only; the emulator's "
        f"own `/files/` URLs; loopback URLs, downloaded; public hosts are not fetched and leave a journal warning): "
        f"formats {', '.join(reference['formats'])}; at most {reference['maxBytes']:,} bytes (413); width and height > "
        f"{reference['minSideExclusive']} px; at most {reference['maxPixels']:,} pixels; aspect ratio "
        f"{_ratio_text(reference['minAspectRatio'])} to {_ratio_text(reference['maxAspectRatio'])}. Internal hosts, "
        f"hosts ending in {', '.join(reference['unreachableHostSuffixes'])} and failed downloads fail the task with "
        f"`{RULES['taskErrors']['imageDownload']['code']}`.",
        f"- Credits: the create reply's `usage.credits_reserved` = n x {billing['unitPrice']} "
        f"(`{billing['billingRule']}`); task queries and callbacks carry no `usage`.",
        f"- Task ids: `{RULES['taskId']['prefix']}<created>-<{RULES['taskId']['suffixLength']} lowercase "
        f"alphanumerics>`; any other prefix is a 400, an unknown id a 404. Results stay valid "
        f"{RULES['resultValiditySeconds']} s after completion (setting `evolink_result_ttl`), then the task is a 404.",
        f"- Progress: pending {RULES['progress']['pending']}; processing {RULES['progress']['processingFirst']}-"
        f"{RULES['progress']['processingLast']}; completed {RULES['progress']['completed']}; never decreases.",
        f"- `callback_url`: schemes {', '.join(delivery['schemes'])} (lenient mode also "
        f"{', '.join(s for s in delivery['lenientSchemes'] if s not in delivery['schemes'])}, with a journal warning); "
        "internal targets (loopback, private, link-local, metadata; any spelling, see contracts/addresses.py) refused "
        "with `--strict`, served with a journal warning otherwise.",
        f"- Callback delivery on {', '.join(delivery['events'])}: POST of the task-query body, "
        f"{delivery['timeout']} s timeout per attempt, retries after "
        f"{', '.join(str(d) for d in delivery['retryDelays'])} s ({1 + len(delivery['retryDelays'])} attempts at most); "
        "any 2xx is success.",
        "",
        'HTTP errors (`{"error": {"code", "message", "type", "param"?, "fallback_suggestion"?}}`); '
        '`code` is the HTTP status with `evolink_error_codes = "integer"` (default) or the string below:',
        "",
        "| situation | status | string code | type (integer / string) | message (integer / string) |",
        "|---|---|---|---|---|",
    ]
    for situation, styles in RULES["httpErrors"].items():
        whole, text = styles["integer"], styles["string"]
        status = str(whole["status"]) if whole["status"] == text["status"] else f"{whole['status']} / {text['status']}"
        lines.append(
            f"| {situation} | {status} | `{text['code']}` | `{whole['type']}` / `{text['type']}` "
            f"| {whole['message']} / {text['message']} |"
        )
    task_errors = RULES["taskErrors"]
    lines += [
        "",
        "Task errors (`error` of failed / cancelled tasks, type `task_error`): "
        + ", ".join(
            f"`{spec['code']}` ({name})"
            for name, spec in task_errors.items()
            if isinstance(spec, dict) and "code" in spec
        )
        + ".",
        "",
        "Failure kinds of fault rules and prompt directives: "
        + ", ".join(f"`{kind}` -> `{spec['code']}`" for kind, spec in task_errors["failures"].items())
        + "; any other kind is used as the task error code.",
        "",
        "HTTP status of an injected fault error -> situation above: "
        + ", ".join(f"{status} {name}" for status, name in RULES["injectedErrors"].items() if status.isdigit())
        + "; other statuses answer `internal` with that status.",
    ]
    return lines
