"""The files API: uploads kept as artifacts for a day, their records, listing and download."""

from __future__ import annotations

import hashlib
import mimetypes
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts.replicate import rules
from emulator.core.artifacts import StorageFull
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime

from .. import errors
from .pagination import Page, paginate
from .views import Answer, timestamp

LIMITS = rules.RULES["files"]
EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")


@dataclass
class FileRecord:
    id: str
    seq: int
    name: str
    content_type: str
    size: int
    md5: str
    sha256: str
    metadata: dict[str, Any]
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class Download:
    id: str
    data: bytes
    content_type: str
    name: str


class Files:
    def __init__(self, runtime: Runtime, number: Callable[[], int]) -> None:
        self.runtime = runtime
        self.number = number
        # Files expire (their TTL) rather than being pushed out by newer ones.
        self._files: Retained[str, FileRecord] = runtime.retained("replicate.files", sys.maxsize)

    def create(
        self, data: bytes, filename: str, content_type: str | None, metadata: dict[str, Any], api_base: str
    ) -> Answer:
        if len(data) >= LIMITS["maxBytes"]:
            raise errors.file_too_large()
        if len(filename.encode("utf-8")) > LIMITS["maxFilenameBytes"]:
            raise errors.invalid_upload("filenameTooLong", maxFilenameBytes=LIMITS["maxFilenameBytes"])
        media_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        file_id = self.runtime.ids.token(26)
        now = self.runtime.clock.now()
        extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
        if not EXTENSION.match(extension):
            extension = (mimetypes.guess_extension(media_type) or ".bin").lstrip(".")
        try:
            self.runtime.artifacts.add_blob(file_id, data, media_type, extension.lower(), LIMITS["ttlSeconds"])
        except StorageFull:
            raise errors.problem("storageFull", limit=self.runtime.artifacts.upload_bytes) from None
        record = FileRecord(
            id=file_id,
            seq=self.number(),
            name=filename,
            content_type=media_type,
            size=len(data),
            md5=hashlib.md5(data).hexdigest(),  # an ETag, as Replicate computes it
            sha256=hashlib.sha256(data).hexdigest(),
            metadata=metadata,
            created_at=now,
            expires_at=now + LIMITS["ttlSeconds"],
        )
        self._files.put(file_id, record)
        return Answer(self.body(record, api_base), 201, ids=(file_id,))

    def get(self, file_id: str, api_base: str) -> Answer:
        record = self._found(file_id)
        return Answer(self.body(record, api_base), ids=(record.id,))

    def download(self, file_id: str) -> Download:
        record = self._found(file_id)
        artifact = self.runtime.artifacts.get(record.id)
        if artifact is None or artifact.blob is None:
            raise errors.problem("fileNotFound")
        return Download(record.id, artifact.blob, record.content_type, record.name)

    def delete(self, file_id: str) -> str:
        """The id of the file deleted."""
        record = self._found(file_id)
        self._forget(record.id)
        return record.id

    def page(self, cursor: str | None, api_base: str) -> Page:
        now = self.runtime.clock.now()
        for file_id in [record.id for record in self._files.values() if record.expires_at <= now]:
            self._forget(file_id)
        page = paginate(list(self._files.values())[::-1], lambda record: record.seq, cursor)
        return Page([self.body(record, api_base) for record in page.items], page.next, page.previous)

    def find(self, file_id: str) -> FileRecord | None:
        """A file's record, if it exists and has not expired."""
        record = self._files.get(file_id)
        if record is not None and record.expires_at <= self.runtime.clock.now():
            self._forget(file_id)
            return None
        return record

    def reset(self) -> None:
        self._files.clear()

    @staticmethod
    def body(record: FileRecord, api_base: str) -> dict[str, Any]:
        return {
            "id": record.id,
            "name": record.name,
            "content_type": record.content_type,
            "size": record.size,
            "etag": record.md5,
            "checksums": {"sha256": record.sha256, "md5": record.md5},
            "metadata": record.metadata,
            "created_at": timestamp(record.created_at),
            "expires_at": timestamp(record.expires_at),
            "urls": {"get": f"{api_base}/v1/files/{record.id}"},
        }

    def _found(self, file_id: str) -> FileRecord:
        record = self.find(file_id)
        if record is None:
            raise errors.problem("fileNotFound")
        return record

    def _forget(self, file_id: str) -> None:
        self._files.pop(file_id)
        self.runtime.artifacts.remove(file_id)
