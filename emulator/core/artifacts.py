"""Artifacts: everything the emulator hands out by URL.

Generated images are stored as specs and rendered on first download; the bytes then live in a
bounded LRU keyed by content, so memory stays flat however many jobs finish. Uploaded files are
kept as bytes within their own byte budget. Both expire after their TTL.
"""

from __future__ import annotations

import asyncio
import heapq
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import images, padding
from .clock import Clock
from .padding import Pieces
from .render import GenerationSpec, padded, render
from .renderers import RENDERERS, Renderers

if TYPE_CHECKING:
    from .state import StateDir

# `fixture-<W>x<H>-<png|jpg|webp>`: a reference image of that size, served at /files/<id>.<ext> on demand, so
# clients and the harness can hand a provider a reference URL it is able to download, without uploading one.
# /files/<id>.<ext>: where every artifact is served, at whatever base URL the emulator hands out.
FILE_PATH = re.compile(r"^/files/(?P<id>[^/.]+)\.(?P<extension>\w+)$")
FIXTURE = re.compile(r"^fixture-(?P<width>[1-9][0-9]{0,4})x(?P<height>[1-9][0-9]{0,4})-(?P<format>png|jpg|webp)$")
FIXTURE_FORMATS = {"png": "png", "jpg": "jpeg", "webp": "webp"}
FIXTURE_MAX_PIXELS = 40_000_000
FIXTURE_TTL = 86_400.0
STATE_KIND = "artifact"  # the rows of a state directory that hold artifacts


def _fixture_spec(artifact_id: str) -> GenerationSpec | None:
    """What the reference fixture of that id shows; None when the id names no fixture the emulator makes."""
    match = FIXTURE.match(artifact_id)
    if match is None:
        return None
    width, height = int(match["width"]), int(match["height"])
    if width * height > FIXTURE_MAX_PIXELS:
        return None
    return GenerationSpec.create(
        prompt=f"reference fixture {width}x{height}",
        provider="fixture",
        model="fixture",
        job_id=artifact_id,
        index=0,
        seed=0,
        width=width,
        height=height,
        format=FIXTURE_FORMATS[match["format"]],
        quality=90,
        reference_count=0,
    )


class StorageFull(Exception):
    """Accepting this upload would exceed the configured byte budget for uploads."""


@dataclass
class Artifact:
    id: str
    media_type: str
    extension: str
    expires_at: float
    spec: GenerationSpec | None = None
    blob: bytes | None = None
    remote_url: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int | None:
        return len(self.blob) if self.blob is not None else None


class RenderCache:
    """Bounded LRU of rendered images, kept as their pieces; concurrent requests for one key render once."""

    def __init__(self, max_bytes: int, renderers: Renderers = RENDERERS, *, realistic_size: bool = True) -> None:
        self.max_bytes = max_bytes
        self.realistic_size = realistic_size
        self.renderers = renderers
        self._entries: OrderedDict[str, Pieces] = OrderedDict()
        self._bytes = 0
        self._inflight: dict[str, asyncio.Future[Pieces]] = {}
        self.renders = 0

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, spec: GenerationSpec) -> bytes:
        """The image in one piece, for whoever needs all of it at once (base64, data URIs); downloads use `pieces`."""
        parts = await self.pieces(spec)
        return await images.offload(padding.join, parts, size=_size(parts))

    async def pieces(self, spec: GenerationSpec) -> Pieces:
        key = spec.content_key()
        cached = self._entries.get(key)
        if cached is not None:
            self._entries.move_to_end(key)
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future = asyncio.ensure_future(self._render(spec))
        self._inflight[key] = future
        try:
            parts = await asyncio.shield(future)
        finally:
            self._inflight.pop(key, None)
        self.renders += 1
        self._put(key, parts)
        return parts

    async def _render(self, spec: GenerationSpec) -> Pieces:
        data = await self.renderers.picture(spec)
        return padded(spec, data) if self.realistic_size else (data,)

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def _put(self, key: str, parts: Pieces) -> None:
        size = _size(parts)
        if size > self.max_bytes:
            return
        self._entries[key] = parts
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= _size(evicted)


def _size(parts: Pieces) -> int:
    # Counted whole, shared padding pieces included: the budget bounds the bytes served from the cache.
    return sum(len(part) for part in parts)


class ArtifactStore:
    def __init__(
        self,
        clock: Clock,
        *,
        cache_bytes: int = 256 * 2**20,
        upload_bytes: int = 1024 * 2**20,
        max_artifacts: int = 1_000_000,
        realistic_size: bool = True,
    ) -> None:
        self.clock = clock
        self.cache = RenderCache(cache_bytes, realistic_size=realistic_size)
        self.upload_bytes = upload_bytes
        self.max_artifacts = max_artifacts
        self._artifacts: OrderedDict[str, Artifact] = OrderedDict()
        self._expiry: list[tuple[float, str]] = []
        self._blob_bytes = 0
        self.state: StateDir | None = None

    def __len__(self) -> int:
        return len(self._artifacts)

    def restore(self, artifacts: Iterable[Artifact]) -> None:
        """Take back the artifacts read from the state directory (expired ones go at once)."""
        state, self.state = self.state, None
        try:
            for artifact in artifacts:
                self._add(artifact)
        finally:
            self.state = state

    @property
    def blob_bytes(self) -> int:
        return self._blob_bytes

    def add_generated(self, artifact_id: str, spec: GenerationSpec, ttl: float) -> Artifact:
        artifact = Artifact(artifact_id, spec.media_type, spec.extension, self.clock.now() + ttl, spec=spec)
        self._add(artifact)
        return artifact

    def add_blob(
        self, artifact_id: str, data: bytes, media_type: str, extension: str, ttl: float, **info: Any
    ) -> Artifact:
        self._sweep()
        if self._blob_bytes + len(data) > self.upload_bytes:
            raise StorageFull(f"uploads are limited to {self.upload_bytes} bytes in total")
        artifact = Artifact(artifact_id, media_type, extension, self.clock.now() + ttl, blob=data, info=info)
        self._add(artifact)
        return artifact

    def add_remote(self, artifact_id: str, url: str, ttl: float) -> Artifact:
        """A file the emulator cannot fetch (it is offline): its URL stands in for the bytes."""
        artifact = Artifact(artifact_id, "application/octet-stream", "bin", self.clock.now() + ttl, remote_url=url)
        self._add(artifact)
        return artifact

    @staticmethod
    def url(base: str, artifact_id: str, extension: str) -> str:
        """Where an artifact is downloaded from, for a client that reached the emulator at `base`."""
        return f"{base.rstrip('/')}/files/{artifact_id}.{extension}"

    @staticmethod
    def own(url: str, base: str) -> str | None:
        """The artifact id of a URL of this emulator's own `/files/` (at `base`), else None; the file may be gone."""
        try:
            parts, home = urlsplit(url), urlsplit(base)
        except ValueError:
            return None
        match = FILE_PATH.match(parts.path)
        if match is None or parts.netloc.lower() != home.netloc.lower():
            return None
        return match["id"]

    def get(self, artifact_id: str) -> Artifact | None:
        artifact = self._artifacts.get(artifact_id)
        if artifact is not None and artifact.expires_at <= self.clock.now():
            self._remove(artifact_id)
            artifact = None
        return artifact if artifact is not None else self._fixture(artifact_id)

    async def prepare(self, artifact_id: str) -> None:
        """Render a reference fixture named `artifact_id` in a render process if it is not held yet, so that `get`
        finds it without rendering on the event loop (a fixture may be 40 megapixels). Anything else: nothing."""
        spec = _fixture_spec(artifact_id)
        if spec is None or self._held(artifact_id):
            return
        data = await self.cache.renderers.picture(spec)
        if not self._held(artifact_id):
            self._add(self._fixture_artifact(artifact_id, spec, data))

    def _held(self, artifact_id: str) -> bool:
        artifact = self._artifacts.get(artifact_id)
        return artifact is not None and artifact.expires_at > self.clock.now()

    def _fixture(self, artifact_id: str) -> Artifact | None:
        spec = _fixture_spec(artifact_id)
        if spec is None:
            return None
        # Unpadded, so a fixture weighs what its pixels need and no provider's byte limit trips over it.
        artifact = self._fixture_artifact(artifact_id, spec, render(spec, realistic_size=False))
        self._add(artifact)
        return artifact

    def _fixture_artifact(self, artifact_id: str, spec: GenerationSpec, data: bytes) -> Artifact:
        return Artifact(
            artifact_id,
            spec.media_type,
            spec.extension,
            self.clock.now() + FIXTURE_TTL,
            blob=data,
            info={"width": spec.width, "height": spec.height},
        )

    def generated_for(self, job_id: str) -> list[Artifact]:
        """The images held for a job, in order (a scan: for people reading the control plane, not for surfaces)."""
        found = [a for a in self._artifacts.values() if a.spec is not None and a.spec.job_id == job_id]
        return sorted(found, key=lambda artifact: artifact.spec.index if artifact.spec else 0)

    def remove(self, artifact_id: str) -> bool:
        return self._remove(artifact_id) is not None

    async def content(self, artifact: Artifact) -> bytes:
        if artifact.blob is not None:
            return artifact.blob
        if artifact.spec is None:
            raise LookupError(f"artifact {artifact.id} is a remote URL; the emulator holds no bytes for it")
        return await self.cache.get(artifact.spec)

    async def pieces(self, artifact: Artifact) -> Pieces:
        """The artifact's bytes as consecutive pieces, to be sent one after the other (never joined: see padding)."""
        if artifact.blob is not None:
            return (artifact.blob,)
        if artifact.spec is None:
            raise LookupError(f"artifact {artifact.id} is a remote URL; the emulator holds no bytes for it")
        return await self.cache.pieces(artifact.spec)

    def reset(self) -> None:
        self._artifacts.clear()
        self._expiry.clear()
        self._blob_bytes = 0
        self.cache.clear()

    def _add(self, artifact: Artifact) -> None:
        self._remove(artifact.id)
        self._artifacts[artifact.id] = artifact
        if self.state is not None and not FIXTURE.match(artifact.id):
            self.state.save(STATE_KIND, artifact.id, artifact)
        self._blob_bytes += artifact.size or 0
        heapq.heappush(self._expiry, (artifact.expires_at, artifact.id))
        self._sweep()
        while len(self._artifacts) > self.max_artifacts:
            self._remove(next(iter(self._artifacts)))

    def _sweep(self) -> None:
        now = self.clock.now()
        while self._expiry and self._expiry[0][0] <= now:
            expires_at, artifact_id = heapq.heappop(self._expiry)
            current = self._artifacts.get(artifact_id)
            if current is not None and current.expires_at == expires_at:
                self._remove(artifact_id)
        if len(self._expiry) > 2 * len(self._artifacts) + 1024:
            self._expiry = [(a.expires_at, a.id) for a in self._artifacts.values()]
            heapq.heapify(self._expiry)

    def _remove(self, artifact_id: str) -> Artifact | None:
        artifact = self._artifacts.pop(artifact_id, None)
        if artifact is not None:
            self._blob_bytes -= artifact.size or 0
            if self.state is not None:
                self.state.delete(STATE_KIND, artifact_id)
        return artifact
