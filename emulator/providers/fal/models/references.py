"""Edit inputs as the emulator reads them: visible images are held to the documented formats and size, ones that
cannot be downloaded fail the request when the app fetches them, public hosts are taken on trust (offline)."""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts import fill
from contracts.fal import rules
from emulator.core import images
from emulator.core.runtime import Runtime

from .. import errors

LIMITS = rules.RULES["referenceImages"]


@dataclass
class Read:
    """What the references tell: the first visible one's size, the first broken one's error, journal warnings."""

    first_size: tuple[int, int] | None = None
    broken: str | None = None
    warnings: list[str] = field(default_factory=list)


async def read(runtime: Runtime, urls: list[str], base_url: str) -> Read:
    found = Read()
    for index, url in enumerate(urls):
        if rules.unreachable(url):
            found.broken = found.broken or _download_error(url)
            continue
        try:
            source = await runtime.references.read(url, base_url, max_bytes=LIMITS["maxBytes"])
            if not source.reachable:
                found.broken = found.broken or _download_error(url)
                continue
            if source.too_large and source.data is not None:
                raise errors.validation(
                    [rules.violation("referenceBytes", index, size=len(source.data), maxBytes=LIMITS["maxBytes"])]
                )
            info = await runtime.references.inspect(source, tuple(LIMITS["formats"]))
        except images.BrokenImage as exc:
            raise errors.validation([rules.violation("referenceUnreadable", index, detail=str(exc))]) from None
        if source.warning:
            found.warnings.append(source.warning)
        size = (info.width, info.height) if info is not None else source.size
        if info is not None and info.format not in LIMITS["formats"]:
            formats = ", ".join(LIMITS["formats"])
            violation = rules.violation("referenceFormat", index, format=info.format, formats=formats)
            raise errors.validation([violation])
        if found.first_size is None and size is not None:
            found.first_size = size
    return found


def _download_error(url: str) -> str:
    template: str = rules.RULES["errors"]["referenceDownload"]["message"]
    return str(fill(template, {"url": url}))
