"""Images a task names, as Runware reads them: the UUID of a stored image, a URL, a data URI or raw base64.

`runtime.references` finds a value (the emulator's own files from its store; loopback URLs downloaded, with a
warning; internal hosts unreachable; public hosts taken on trust offline, with a warning). Runware's rules sit on
top: every format the emulator decodes is read, a reference that cannot be used is `invalidReferenceImages`, and
an upload that cannot be read is refused with its parameter's own error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from contracts import fill
from contracts.runware import rules
from emulator.core import images
from emulator.core.artifacts import Artifact, StorageFull
from emulator.core.journal import Entry
from emulator.core.references import Source
from emulator.core.runtime import Runtime

from .. import errors
from .records import Records, Stored

ANY_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
REFERENCE_BYTES: int = rules.RULES["referenceDownload"]["maxBytes"]
TOO_LARGE: str = rules.LENIENCY["notes"]["referenceTooLarge"]
UPLOAD_FIELDS = {"imageUpload": "image", "mediaStorage": "media"}

Size = tuple[int, int]


class References:
    def __init__(self, runtime: Runtime, records: Records, artifact_ttl: float) -> None:
        self.runtime = runtime
        self.records = records
        self.artifact_ttl = artifact_ttl

    async def sizes(self, values: list[str], model: str, base_url: str, entry: Entry) -> list[Size | None]:
        """The size of each reference as far as the emulator can see it (None: unknown), in order. Inline images
        and UUIDs are read before URLs; the first that cannot be used refuses the task, as Runware answers."""
        sizes: list[Size | None] = [None] * len(values)
        try:
            for position in sorted(range(len(values)), key=lambda at: _is_url(values[at])):
                sizes[position] = await self._size(position, values[position], base_url, entry)
        except images.BrokenImage as exc:
            raise errors.invalid_reference(str(exc), model) from None
        return sizes

    async def upload(self, task_type: str, task: Mapping[str, Any], base_url: str, entry: Entry) -> dict[str, Any]:
        """imageUpload / mediaStorage: store the image and answer with its UUID and URL (kept for getResponse)."""
        task_uuid = task["taskUUID"]
        with self.records.claim(task_type, task_uuid):
            parameter = UPLOAD_FIELDS[task_type]
            artifact = await self._store(task_type, task[parameter], parameter, base_url, entry)
            url = artifact.remote_url or self.runtime.file_url(base_url, artifact)
            if task_type == "imageUpload":
                item = {"taskType": task_type, "taskUUID": task_uuid, "imageUUID": artifact.id, "imageURL": url}
            else:
                item = {
                    "taskType": task_type,
                    "taskUUID": task_uuid,
                    "operation": "upload",
                    "mediaUUID": artifact.id,
                    "mediaURL": url,
                }
            self.records.put(task_uuid, Stored(item))
        return item

    async def _size(self, position: int, value: str, base_url: str, entry: Entry) -> Size | None:
        def broken(detail: str) -> images.BrokenImage:
            return images.BrokenImage(errors.detail("reference", position=position, detail=detail))

        if _is_url(value) and not _well_formed(value):
            raise broken(errors.detail("malformedURL", url=repr(value)))
        try:
            source = await self._read(value, base_url)
        except images.BrokenImage as exc:
            raise broken(str(exc)) from None
        if not source.reachable:
            raise broken(_unreachable(source))
        if source.warning:
            entry.warnings.append(source.warning)
        if source.data is None or source.kind == "stored":
            return source.size
        if source.kind == "downloaded" and source.too_large:
            entry.notes.append(_too_large(position, value))
            return None
        try:
            info = await _inspect(source.data)
        except images.BrokenImage as exc:
            raise broken(errors.detail("downloaded", url=value, detail=exc) if _is_url(value) else str(exc)) from None
        return info.width, info.height

    async def _store(self, task_type: str, value: str, parameter: str, base_url: str, entry: Entry) -> Artifact:
        """An upload: a stored image (by UUID or by the emulator's own URL) is itself; a URL is read like a
        reference, so a loopback image is downloaded and stored, a public one recorded unread (offline), and an
        unreachable one refused, as Runware cannot fetch it either."""

        def refused(detail: str) -> errors.RunwareError:
            return errors.invalid_upload(task_type, parameter, detail)

        # Drawn before anything can refuse the upload: a refused one uses up an id too, as it always has, so a
        # seeded run hands out the same ids as before.
        store, artifact_id = self.runtime.artifacts, self.runtime.ids.uuid4()
        if _is_url(value) and not _well_formed(value):
            raise refused(errors.detail("malformedUploadURL"))
        try:
            source = await self._read(value, base_url)
        except images.BrokenImage as exc:
            raise refused(str(exc).capitalize()) from None
        if not source.reachable:
            raise refused(_capitalised(_unreachable(source)))
        if source.artifact is not None:
            return source.artifact
        if source.warning:
            entry.warnings.append(source.warning)
        if source.data is None or (source.kind == "downloaded" and source.too_large):
            if source.too_large:
                entry.notes.append(_too_large(0, value))
            return store.add_remote(artifact_id, value, self.artifact_ttl)
        try:
            info = await _inspect(source.data)
        except images.BrokenImage as exc:
            raise refused(
                errors.detail("downloaded", url=value, detail=exc) if _is_url(value) else str(exc).capitalize()
            ) from None
        try:
            return store.add_blob(
                artifact_id,
                source.data,
                info.media_type,
                info.extension,
                self.artifact_ttl,
                width=info.width,
                height=info.height,
            )
        except StorageFull as exc:
            raise errors.named("storageFull", detail=exc) from None

    async def _read(self, value: str, base_url: str) -> Source:
        if ANY_UUID.match(value):
            return self.runtime.references.stored(value, value.lower())
        if _is_url(value) or images.is_data_uri(value):
            return await self.runtime.references.read(value, base_url, max_bytes=REFERENCE_BYTES)
        return Source(value, "inline", await images.offload(images.decode_base64, value, size=len(value)))


async def _inspect(data: bytes) -> images.ImageInfo:
    return await images.offload(images.inspect, data, size=len(data))


def _unreachable(source: Source) -> str:
    if ANY_UUID.match(source.value):
        return errors.detail("unknownUUID", uuid=source.value)
    return source.detail


def _too_large(position: int, url: str) -> str:
    return str(fill(TOO_LARGE, {"position": position, "url": url, "maxBytes": REFERENCE_BYTES}))


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _well_formed(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError:
        return False
    return bool(parts.hostname)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
