"""Reference images as Ark treats them: Ark downloads them while it answers the request, so a file that breaks a
documented limit or cannot be fetched refuses the request itself. Public hosts are taken on trust (the emulator is
offline), with a journal warning."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import Violation, fill
from contracts.ark import rules
from emulator.core import images
from emulator.core.runtime import Runtime

from .. import errors

LIMITS = rules.RULES["referenceImages"]
WARNINGS = rules.RULES["warnings"]


@dataclass(frozen=True)
class Reference:
    """A reference image as far as the emulator can see it: its size when visible."""

    url: str
    size: tuple[int, int] | None = None
    warning: str | None = None


async def read(runtime: Runtime, values: list[str], base_url: str) -> list[Reference]:
    """Every reference in order; the first one that breaks a documented limit refuses the request."""
    found = []
    for index, value in enumerate(values):
        outcome = await _read(runtime, index, value, base_url)
        if isinstance(outcome, Violation):
            raise errors.from_violation(outcome)
        found.append(outcome)
    return found


async def _read(runtime: Runtime, index: int, value: str, base_url: str) -> Reference | Violation:
    try:
        source = await runtime.references.read(value, base_url, max_bytes=LIMITS["maxBytes"])
    except images.BrokenImage as exc:
        return rules.reference_unreadable(index, str(exc))
    if not source.reachable:
        return rules.reference_unreachable(index, source.detail or "the host cannot be reached")
    if source.too_large and source.data is not None:
        problem = rules.reference_too_large(index, len(source.data))
        if problem is not None:
            return problem
    try:
        info = await runtime.references.inspect(source, tuple(LIMITS["formats"]))
    except images.BrokenImage as exc:
        return rules.reference_unreadable(index, str(exc))
    if info is not None:
        source_format, size = info.format, (info.width, info.height)
    elif source.size is not None and source.format is not None:
        source_format, size = source.format, source.size
    else:
        # Not fetched: production downloads it and may refuse it; the emulator cannot tell.
        warning = fill(WARNINGS["remoteReference"], {"index": index, "url": _shown(value)})
        return Reference(value, warning=source.warning or warning)
    problem = rules.reference_problem(index, source_format, *size)
    return problem or Reference(value, size, warning=source.warning)


def _shown(value: str) -> str:
    return value if len(value) <= 200 else value[:200] + "..."
