"""Reference images as every surface finds them: inline data, the emulator's own files, and URLs.

Surfaces differ in what they accept (formats, byte and pixel limits, data URIs, upload ids) and in how they
report a problem. They do not differ in how a value is found, which is decided here once:
- a data URI is decoded;
- a URL of the emulator's own `/files/` is read from the artifact store (gone: unreachable);
- any other URL goes to `RemoteImages`: loopback downloaded (with a warning: production cannot reach it),
  internal and reserved hosts unreachable, public hosts not fetched offline (with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from contracts.addresses import host_of

from . import images
from .artifacts import Artifact, ArtifactStore
from .remote import RemoteImages

Kind = Literal["inline", "stored", "downloaded", "remote", "unreachable"]


@dataclass(frozen=True)
class Source:
    """Where a reference came from and what the emulator can see of it.

    `data` holds the bytes when the emulator has them (inline, an upload, a download); a generated artifact
    knows its size and format without them. `warning` is a journal warning (production would not see the file
    the way the emulator did); `detail` says why an unreachable one cannot be read."""

    value: str
    kind: Kind
    data: bytes | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    artifact: Artifact | None = None
    warning: str | None = None
    detail: str = ""
    too_large: bool = False

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width is not None and self.height is not None else None

    @property
    def reachable(self) -> bool:
        return self.kind != "unreachable"


class References:
    def __init__(self, artifacts: ArtifactStore, remote: RemoteImages) -> None:
        self.artifacts = artifacts
        self.remote = remote

    async def read(self, value: str, base_url: str, *, max_bytes: int) -> Source:
        """Find a reference given as a data URI or a URL (`images.BrokenImage` when it is neither)."""
        if images.is_data_uri(value):
            data = await images.offload(lambda: images.decode_data_uri(value)[1], size=len(value))
            return Source(value, "inline", data, too_large=len(data) > max_bytes)
        if host_of(value) is None:
            raise images.BrokenImage("not a well-formed URL")
        artifact_id = self.artifacts.own(value, base_url)
        if artifact_id is not None:
            await self.artifacts.prepare(artifact_id)  # a fixture renders off the event loop
            return self.stored(value, artifact_id)
        fetched = await self.remote.fetch(value, max_bytes)
        if fetched.status == "unreachable":
            return Source(value, "unreachable", detail=fetched.detail)
        if fetched.data is None:
            return Source(value, "remote", warning=fetched.warning)
        return Source(value, "downloaded", fetched.data, warning=fetched.warning, too_large=fetched.too_large)

    def stored(self, value: str, artifact_id: str) -> Source:
        """An artifact of the emulator's own (a result, an upload, a fixture), named by URL or by id."""
        artifact = self.artifacts.get(artifact_id)
        if artifact is None:
            return Source(value, "unreachable", detail=f"{value} has expired or never existed")
        if artifact.blob is not None:
            width, height = artifact.info.get("width"), artifact.info.get("height")
            return Source(value, "stored", artifact.blob, width, height, artifact=artifact)
        if artifact.spec is not None:
            spec = artifact.spec
            return Source(value, "stored", None, spec.width, spec.height, spec.format, artifact=artifact)
        return Source(value, "remote", artifact=artifact)  # a URL another surface recorded without its bytes

    async def inspect(self, source: Source, allowed: tuple[str, ...]) -> images.ImageInfo | None:
        """Decode a source's bytes (off the event loop when big): None when the emulator holds none."""
        if source.data is None:
            return None
        data = source.data
        return await images.offload(lambda: images.inspect(data, allowed), size=len(data))
