"""Cross-field rules for EvoLink doubao-seedream-4.0 tasks, evaluated on bodies that already pass the schema.

Every number comes from `rules.json` or the schemas; this module only combines them. The emulator
and the conformance harness both use it, so an expected image size or count is computed once.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

from .._loader import Violation, load
from .._text import fill

CONTRACT = load("evolink")
RULES: Mapping[str, Any] = CONTRACT.data("rules")
REQUEST: Mapping[str, Any] = CONTRACT.schema("imageGeneration")
DEFAULTS: Mapping[str, Any] = CONTRACT.defaults("imageGeneration")
MODEL: str = RULES["model"]
MAX_REFERENCES: int = REQUEST["properties"]["image_urls"]["maxItems"]
MAX_TOTAL: int = RULES["maxReferencesPlusGenerated"]
SIZE_TABLE: Mapping[str, Mapping[str, list[int]]] = RULES["sizeTable"]
QUALITIES: list[str] = REQUEST["properties"]["quality"]["enum"]
SIZE_FORMS: list[Mapping[str, Any]] = REQUEST["properties"]["size"]["anyOf"]
RATIO_SIZES: list[str] = SIZE_FORMS[0]["enum"]
LEGACY_SIZES: list[str] = SIZE_FORMS[1]["enum"]
PIXELS = re.compile(r"^(\d+)x(\d+)$")
REFERENCES: Mapping[str, Any] = RULES["referenceImages"]
CALLBACK: Mapping[str, Any] = RULES["callback"]
INTERNAL_NETWORKS = tuple(ipaddress.ip_network(cidr) for cidr in CALLBACK["internalNetworks"])
UNIT_PRICE: float = RULES["billing"]["unitPrice"]

Size = tuple[int, int]


def _count_pattern() -> re.Pattern[str]:
    spec = RULES["imageCount"]
    numbers = "|".join(sorted(spec["numberWords"], key=len, reverse=True))
    nouns = "|".join(sorted(spec["nouns"], key=len, reverse=True))
    gap = spec["maxWordsBetween"]
    return re.compile(rf"\b(\d+|{numbers})\s+(?:[\w'-]+\s+){{0,{gap}}}?(?:{nouns})\b", re.IGNORECASE)


COUNT_PHRASE = _count_pattern()


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
    if size in LEGACY_SIZES:
        width, height = SIZE_TABLE[RULES["legacySizes"]["ratio"]][size]
        return width, height
    pixels = pixel_size(size)
    if pixels is not None:
        return pixels
    if size == "auto":
        size = nearest_ratio(first_reference) if first_reference else RULES["autoSize"]["fallbackRatio"]
    width, height = SIZE_TABLE[size][quality]
    return width, height


def asked_count(prompt: str) -> int | None:
    """How many images the prompt asks for ("generate 2 different images"), or None."""
    match = COUNT_PHRASE.search(prompt)
    if match is None:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else int(RULES["imageCount"]["numberWords"][word])


def image_count(body: Mapping[str, Any], mode: str = "n") -> int:
    """Images a valid body yields: never above n, never above 15 - references (the documented rule)."""
    n = int(body.get("n", DEFAULTS["n"]))
    room = MAX_TOTAL - len(body.get("image_urls") or [])
    wanted = n
    if mode == "prompt":
        wanted = min(n, max(1, asked_count(body["prompt"]) or 1))
    return max(1, min(wanted, room))


def check(body: Mapping[str, Any], *, strict: bool) -> tuple[list[Violation], list[str]]:
    """Cross-field violations of a schema-valid body, and fidelity warnings for what only lenient mode admits."""
    violations = _check_size(body)
    warnings: list[str] = []
    if "callback_url" in body:
        found, warned = check_callback(body["callback_url"], strict=strict)
        violations += found
        warnings += warned
    return violations, warnings


def check_callback(url: str, *, strict: bool) -> tuple[list[Violation], list[str]]:
    """EvoLink's callback rules: HTTPS only, no internal addresses. Lenient mode admits http and internal
    targets (local receivers) with a warning; other schemes are refused in both modes."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host = None
    if not host:
        return [_violation("callbackMalformed", "/callback_url")], []
    scheme = parts.scheme.lower()
    allowed = CALLBACK["schemes"] if strict else CALLBACK["lenientSchemes"]
    if scheme not in allowed:
        schemes = " or ".join(f"{name}://" for name in CALLBACK["schemes"])
        return [_violation("callbackScheme", "/callback_url", schemes=schemes, scheme=scheme)], []
    warnings = []
    if scheme not in CALLBACK["schemes"]:
        warnings.append(fill(RULES["callbackWarnings"]["scheme"], {"url": url, "scheme": scheme}))
    if internal_host(host):
        if strict:
            return [_violation("callbackInternal", "/callback_url", host=host)], []
        warnings.append(fill(RULES["callbackWarnings"]["internal"], {"url": url, "host": host}))
    return [], warnings


def internal_host(host: str) -> bool:
    """Loopback, private, link-local and other non-public targets, by name or address (names are never resolved)."""
    name = host.lower().rstrip(".")
    if name in CALLBACK["internalHostnames"] or name.endswith(tuple(CALLBACK["internalHostSuffixes"])):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        if not name.isdigit() or int(name) >= 2**32:
            return False
        address = ipaddress.IPv4Address(int(name))  # "http://2130706433/" is 127.0.0.1 to most clients
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in INTERNAL_NETWORKS)


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


def describe() -> list[str]:
    """Markdown lines for the generated contract document."""
    lines = [f"Model `{MODEL}`.", "", "| ratio | " + " | ".join(QUALITIES) + " |", "|---" * (len(QUALITIES) + 1) + "|"]
    for ratio, tiers in SIZE_TABLE.items():
        lines.append(f"| `{ratio}` | " + " | ".join(f"{w}x{h}" for w, h in (tiers[q] for q in QUALITIES)) + " |")
    bounds = RULES["pixelSize"]
    reference = REFERENCES
    billing = RULES["billing"]
    delivery = CALLBACK
    lines += [
        "",
        f"- `size` ratio form uses the table above at `quality` (default `{DEFAULTS['quality']}`); `auto` (the "
        f"default) takes the ratio nearest the first visible reference image, else `{RULES['autoSize']['fallbackRatio']}`.",
        f"- Legacy `size` values {', '.join(f'`{s}`' for s in LEGACY_SIZES)}: the `{RULES['legacySizes']['ratio']}` "
        "entry of that tier; `quality` is ignored.",
        f"- `size` `WxH`: {bounds['minPixels']:,} to {bounds['maxPixels']:,} pixels, aspect ratio "
        f"{_ratio_text(bounds['minAspectRatio'])} to {_ratio_text(bounds['maxAspectRatio'])} (bounds included).",
        f"- References + generated images <= {MAX_TOTAL}: a task makes `min(n, {MAX_TOTAL} - len(image_urls))` images "
        "(setting `evolink_image_count = \"n\"`, the default), or `min(asked, n, "
        f"{MAX_TOTAL} - len(image_urls))` with `\"prompt\"`, where asked is the first "
        f"\"<number> <up to {RULES['imageCount']['maxWordsBetween']} words> <image noun>\" phrase of the prompt "
        "(1 when there is none).",
        f"- Reference images (data URIs and the emulator's own `/files/` URLs; other URLs are not fetched): formats "
        f"{', '.join(reference['formats'])}; at most {reference['maxBytes']:,} bytes (413); width and height > "
        f"{reference['minSideExclusive']} px; at most {reference['maxPixels']:,} pixels; aspect ratio "
        f"{_ratio_text(reference['minAspectRatio'])} to {_ratio_text(reference['maxAspectRatio'])}. Hosts ending in "
        f"{', '.join(reference['unreachableHostSuffixes'])} cannot be downloaded: the task fails with "
        f"`{RULES['taskErrors']['imageDownload']['code']}`.",
        f"- Credits: `credits_reserved` = n x {billing['unitPrice']} (`{billing['billingRule']}`); completed tasks add "
        f"`credits_used` = images generated x {billing['unitPrice']}.",
        f"- Task ids: `{RULES['taskId']['prefix']}<created>-<{RULES['taskId']['suffixLength']} lowercase "
        f"alphanumerics>`; any other prefix is a 400, an unknown id a 404. Results stay valid "
        f"{RULES['resultValiditySeconds']} s after completion (setting `evolink_result_ttl`), then the task is a 404.",
        f"- Progress: pending {RULES['progress']['pending']}; processing {RULES['progress']['processingFirst']}-"
        f"{RULES['progress']['processingLast']}; completed {RULES['progress']['completed']}; never decreases.",
        f"- `callback_url`: schemes {', '.join(delivery['schemes'])} (lenient mode also "
        f"{', '.join(s for s in delivery['lenientSchemes'] if s not in delivery['schemes'])}, with a journal warning); "
        f"internal targets ({', '.join(delivery['internalHostnames'])}, "
        f"{', '.join(delivery['internalNetworks'])}) refused with `--strict`, warned otherwise.",
        f"- Callback delivery on {', '.join(delivery['events'])}: POST of the task-query body, "
        f"{delivery['timeout']} s timeout per attempt, retries after "
        f"{', '.join(str(d) for d in delivery['retryDelays'])} s ({1 + len(delivery['retryDelays'])} attempts at most); "
        "any 2xx is success.",
        "",
        "HTTP errors (`{\"error\": {\"code\", \"message\", \"type\", \"param\"?, \"fallback_suggestion\"?}}`); "
        "`code` is the HTTP status with `evolink_error_codes = \"integer\"` (default) or the string below:",
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
        + ", ".join(f"`{spec['code']}` ({name})" for name, spec in task_errors.items() if isinstance(spec, dict) and "code" in spec)
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
