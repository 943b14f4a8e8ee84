"""Reference images as EvoLink treats them: visible ones are held to the documented limits, ones that cannot be
downloaded fail the task later, and public hosts are taken on trust (the emulator is offline)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts import Violation
from contracts.evolink import rules
from emulator.core import images
from emulator.core.runtime import Runtime

from .. import errors

LIMITS = rules.RULES["referenceImages"]


@dataclass(frozen=True)
class Reference:
    """A reference image as far as the emulator can see it: its size when visible, and whether it can be fetched."""

    url: str
    size: tuple[int, int] | None = None
    reachable: bool = True
    warning: str | None = None


async def read(runtime: Runtime, urls: list[str], base_url: str) -> list[Reference]:
    """Every reference in order; the first one that breaks a documented limit refuses the request."""
    found = []
    for index, url in enumerate(urls):
        outcome = await _read(runtime, index, url, base_url)
        if isinstance(outcome, Violation):
            error = errors.from_violation(outcome)
            error.violations = [outcome]
            raise error
        found.append(outcome)
    return found


async def _read(runtime: Runtime, index: int, url: str, base_url: str) -> Reference | Violation:
    if rules.unreachable(url):
        return Reference(url, reachable=False)
    try:
        source = await runtime.references.read(url, base_url, max_bytes=LIMITS["maxBytes"])
    except images.BrokenImage as exc:
        return rules.reference_unreadable(index, str(exc))
    if not source.reachable:
        return Reference(url, reachable=False)
    if source.too_large and source.data is not None:
        return rules.reference_too_large(index, len(source.data)) or Reference(url)
    try:
        info = await runtime.references.inspect(source, tuple(LIMITS["formats"]))
    except images.BrokenImage as exc:
        return rules.reference_unreadable(index, str(exc))
    if info is not None:
        source_format, size = info.format, (info.width, info.height)
    elif source.size is not None and source.format is not None:
        source_format, size = source.format, source.size
    else:
        return Reference(url, warning=source.warning)
    problem = rules.reference_problem(index, source_format, *size)
    return problem or Reference(url, size, warning=source.warning)
