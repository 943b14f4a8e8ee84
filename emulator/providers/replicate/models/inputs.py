"""`image_input` as the model loads it: every entry found (core's reader), then decoded far enough to know its size.

Replicate's own rules on top of the reader: only HTTP(S) URLs and data URIs; on the API's own host, the files API
and earlier outputs are files and nothing else is; an entry that cannot be loaded fails the prediction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contracts.replicate import rules
from emulator.core import images
from emulator.core.artifacts import ArtifactStore
from emulator.core.references import Source
from emulator.core.runtime import Runtime

from .files import Files

RULES = rules.RULES
IMAGE_INPUT = rules.IMAGE_INPUT
UPSTREAM = IMAGE_INPUT["upstream"]
NOTES: Mapping[str, str] = RULES["journal"]["notes"]
FILE_API_PATH = re.compile(r"^(?P<prefix>.*)/v1/files/(?P<id>[^/]+)(?:/download)?/?$")

Size = tuple[int, int]


class BrokenInput(Exception):
    """An `image_input` entry the model cannot load: the prediction fails with this text."""


@dataclass(frozen=True)
class Loaded:
    """What the model saw of one `image_input` entry: its size when known, and the journal's words on it."""

    size: Size | None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Inputs:
    def __init__(self, runtime: Runtime, files: Files, prefix: str) -> None:
        self.runtime = runtime
        self.files = files
        self.prefix = prefix

    async def load(self, values: list[str], base: str) -> list[Loaded]:
        """Every entry as the model would read it; BrokenInput for the first it cannot load. URLs are all looked
        at before any data URI is decoded."""
        found = [await self._find(index, value, base) for index, value in enumerate(values)]
        return [
            await self._measure(index, value, source, base)
            for index, (value, source) in enumerate(zip(values, found, strict=True))
        ]

    async def _find(self, index: int, value: str, base: str) -> Source | None:
        """Where a URL entry leads (None for a data URI, read later)."""
        if images.is_data_uri(value):
            return None
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            host = None
        if host is None or parts.scheme.lower() not in ("http", "https"):
            raise BrokenInput(_broken(index, "notUrl", value[:200]))
        if parts.netloc.lower() == urlsplit(base).netloc.lower():
            return self._stored(index, value, parts.path, base)
        source = await self._read(index, value, base)
        if not source.reachable:
            raise BrokenInput(_error("brokenImageInput", index=index, reason=source.detail))
        if source.too_large:
            raise BrokenInput(_broken(index, "tooLarge", value[:200], maxBytes=IMAGE_INPUT["maxBytes"]))
        return source

    def _stored(self, index: int, value: str, path: str, base: str) -> Source:
        """An entry on the API's own host: an upload of the files API, or an earlier output."""
        match = FILE_API_PATH.match(path)
        if match and match["prefix"] == self.prefix:
            record = self.files.find(match["id"])
            source = self.runtime.references.stored(value, record.id) if record else None
            if source is None or source.data is None:
                raise BrokenInput(_broken(index, "uploadGone", value))
            return source
        artifact_id = ArtifactStore.own(value, base)
        if artifact_id is None:
            raise BrokenInput(_broken(index, "notServed", value))
        source = self.runtime.references.stored(value, artifact_id)
        if not source.reachable:
            raise BrokenInput(_broken(index, "outputGone", value))
        return source

    async def _measure(self, index: int, value: str, source: Source | None, base: str) -> Loaded:
        """Decode an entry far enough to know its size; notes where it breaks a limit of ByteDance's own API."""
        if source is None:
            source = await self._read(index, value, base)
        warnings = (f"image_input[{index}]: {source.warning}",) if source.warning else ()
        try:
            info = await self.runtime.references.inspect(source, tuple(IMAGE_INPUT["formats"]))
        except images.BrokenImage as exc:
            raise BrokenInput(_error("brokenImageInput", index=index, reason=str(exc))) from None
        if info is None or source.data is None:
            return Loaded(source.size, warnings)
        notes = []
        if len(source.data) > UPSTREAM["maxBytes"]:
            notes.append(
                NOTES["upstreamBytes"].format(index=index, size=len(source.data), maxBytes=UPSTREAM["maxBytes"])
            )
        ratio = UPSTREAM["maxAspectRatio"]
        if not 1 / ratio <= info.width / max(1, info.height) <= ratio:
            notes.append(
                NOTES["upstreamAspect"].format(index=index, width=info.width, height=info.height, maxAspectRatio=ratio)
            )
        if info.format not in UPSTREAM["formats"]:
            notes.append(NOTES["upstreamFormat"].format(index=index, format=info.format.upper()))
        return Loaded((info.width, info.height), warnings, tuple(notes))

    async def _read(self, index: int, value: str, base: str) -> Source:
        try:
            return await self.runtime.references.read(value, base, max_bytes=IMAGE_INPUT["maxBytes"] - 1)
        except images.BrokenImage as exc:
            raise BrokenInput(_error("brokenImageInput", index=index, reason=str(exc))) from None


def _broken(index: int, reason: str, value: str, **values: Any) -> str:
    """The failure of an entry the model cannot load, `reason` named in rules.json `inputErrors`."""
    return _error("brokenImageInput", index=index, reason=RULES["inputErrors"][reason].format(value=value, **values))


def _error(name: str, **values: Any) -> str:
    return str(RULES["runErrors"][name]).format(**values)
