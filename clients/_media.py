"""Inline images: data URIs both ways, and local files (bytes or paths) read for upload."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

# Leading bytes of the formats the providers accept as references.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
}

LocalImage = bytes | bytearray | memoryview | os.PathLike[str]


@dataclass(frozen=True)
class LocalFile:
    name: str
    data: bytes
    media_type: str

    def part(self) -> tuple[str, bytes, str]:
        """The `(filename, content, content type)` tuple httpx sends as a multipart file."""
        return (self.name, self.data, self.media_type)


def sniff(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    return "application/octet-stream"


def is_local(value: Any) -> bool:
    return isinstance(value, bytes | bytearray | memoryview | os.PathLike)


def load(value: LocalImage, filename: str | None = None) -> LocalFile:
    if isinstance(value, os.PathLike):
        path = Path(value)
        data = path.read_bytes()
        return LocalFile(filename or path.name, data, sniff(data))
    data = bytes(value)
    media_type = sniff(data)
    return LocalFile(filename or f"image.{_EXTENSIONS.get(media_type, 'bin')}", data, media_type)


def data_uri(value: LocalImage) -> str:
    file = load(value)
    return f"data:{file.media_type};base64,{base64.b64encode(file.data).decode('ascii')}"


def inline(value: Any) -> Any:
    """Bytes and paths become data URIs; anything else (URLs, ids, data URIs) is left as it is."""
    return data_uri(value) if is_local(value) else value


def is_data_uri(value: Any) -> bool:
    return isinstance(value, str) and value[:5].lower() == "data:"


def decode_data_uri(uri: str) -> tuple[bytes, str]:
    """The bytes and media type of a `data:` URI; ValueError when it is malformed."""
    if not is_data_uri(uri) or "," not in uri:
        raise ValueError("not a data URI")
    header, payload = uri[5:].split(",", 1)
    parameters = header.split(";")
    media_type = parameters[0] or "text/plain"
    if "base64" in (parameter.strip().lower() for parameter in parameters[1:]):
        try:
            return base64.b64decode(payload, validate=False), media_type
        except binascii.Error as error:
            raise ValueError(f"the data URI's base64 is malformed: {error}") from error
    return unquote_to_bytes(payload), media_type
