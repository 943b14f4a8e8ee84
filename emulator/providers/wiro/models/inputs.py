"""A Run's `inputImage` entries, as Wiro's preprocessing would find them.

File parts are checked and stored. URLs are found by the core reader (the emulator's own files from its store,
loopback URLs downloaded, internal or reserved hosts unreachable, public hosts not fetched); Wiro's rules on top:
a URL that cannot be used does not refuse the Run, it fails the task before any image is made, since Wiro
downloads URL inputs while preprocessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.wiro import rules
from emulator.core import images
from emulator.core.http import Part
from emulator.core.runtime import Runtime

from .. import errors
from .files import Files


@dataclass(frozen=True)
class Inputs:
    """The inputImage entries as URLs, what was served only leniently, and why the task must fail."""

    urls: list[str]
    warnings: list[str]
    failure: str | None = None


async def read(runtime: Runtime, files: Files, entries: list[Any], base_url: str) -> Inputs:
    urls: list[str] = []
    warnings: list[str] = []
    failure: str | None = None
    for index, entry in enumerate(entries):
        path = f"/inputImage/{index}"
        if isinstance(entry, Part):
            urls.append(runtime.file_url(base_url, await files.store_image(entry, path)))
            continue
        if not isinstance(entry, str):
            raise errors.parameters_invalid(path, errors.note("inputImageEntry"))
        urls.append(entry)
        problem, warning = await _problem(runtime, index, entry, base_url)
        if warning is not None:
            warnings.append(warning)
        failure = failure or problem
    return Inputs(urls, warnings, failure)


async def _problem(runtime: Runtime, index: int, url: str, base_url: str) -> tuple[str | None, str | None]:
    """(why the task must fail, journal warning) for one inputImage URL."""
    try:
        source = await runtime.references.read(url, base_url, max_bytes=rules.UPLOAD_MAX_BYTES)
    except images.BrokenImage as exc:
        return rules.reference_failure("unreachable", index=index, detail=str(exc)), None
    if not source.reachable:
        return rules.reference_failure("unreachable", index=index, detail=source.detail or url), None
    if source.artifact is not None:
        stored_image = source.size is not None
        return (None if stored_image else rules.reference_failure("storedNotImage", index=index, url=url)), None
    if source.data is None:
        return None, rules.warning("offlineReference", index=index, url=url)
    warning = rules.warning("loopbackReference", index=index, url=url)
    if source.too_large:
        return rules.reference_failure("tooLarge", index=index, url=url, maxBytes=rules.UPLOAD_MAX_BYTES), warning
    try:
        await images.offload(images.inspect, source.data, size=len(source.data))
    except images.BrokenImage as exc:
        return rules.reference_failure("notImage", index=index, url=url, detail=str(exc)), warning
    return None, warning
