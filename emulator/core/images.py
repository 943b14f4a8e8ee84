"""Reading images that clients send: data URIs, base64 and raw bytes, checked with Pillow."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import re
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
from PIL import Image

FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
DATA_URI = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[\w.+-]+)*)(?P<b64>;base64)?,", re.I)


# Decoding or encoding more than this many bytes moves to a worker thread, so the event loop keeps serving.
OFFLOAD_BYTES = 256 * 1024
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()
T = TypeVar("T")


class BrokenImage(ValueError):
    pass


async def offload(function: Callable[..., T], *args: object, size: int) -> T:
    """`function(*args)`, in a worker thread when it handles `size` bytes or more (big decodes, big encodes).

    One such job runs at a time: parsers and decoders hold the GIL for their whole call, so several in parallel
    would keep the event loop waiting behind each of them in turn; one at a time, it waits for one at most."""
    if size >= OFFLOAD_BYTES:
        return await anyio.to_thread.run_sync(function, *args, limiter=_limiter())
    return function(*args)


def _limiter() -> anyio.CapacityLimiter:
    # One per event loop: a CapacityLimiter belongs to the loop that first uses it.
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = anyio.CapacityLimiter(1)
    return limiter


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    size: int

    @property
    def media_type(self) -> str:
        return f"image/{self.format}"

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else self.format


def inspect(data: bytes, allowed: tuple[str, ...] = ("jpeg", "png", "webp")) -> ImageInfo:
    """Format and size of an encoded image; `BrokenImage` when it cannot be decoded or is not allowed.

    The whole image is decoded: header checks alone pass truncated JPEG and WEBP files and PNG files
    with corrupt data. Pillow's decompression-bomb warning (about 89 megapixels) counts as broken.
    """
    if not data:
        raise BrokenImage("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = FORMATS.get(image.format or "", (image.format or "unknown").lower())
                width, height = image.size
                if kind in allowed:
                    image.load()
    except Exception as exc:  # Pillow raises many types for hostile input; all mean "not an image".
        raise BrokenImage(f"the image cannot be decoded ({type(exc).__name__})") from exc
    if kind not in allowed:
        raise BrokenImage(
            f"{kind.upper()} images are not supported; use one of {', '.join(a.upper() for a in allowed)}"
        )
    return ImageInfo(kind, width, height, len(data))


def is_data_uri(text: str) -> bool:
    return text[:5].lower() == "data:"


def decode_data_uri(text: str) -> tuple[str | None, bytes]:
    match = DATA_URI.match(text)
    if match is None:
        raise BrokenImage("malformed data URI")
    payload = text[match.end() :]
    if not match.group("b64"):
        raise BrokenImage("data URIs must be base64 encoded")
    return match.group("media"), decode_base64(payload)


def decode_base64(text: str) -> bytes:
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BrokenImage("invalid base64 data") from exc
