"""Bring a placeholder up to the byte size a real photograph of its size and quality would have.

Placeholders compress far better than photographs, so without this a 4K result would be a
fraction of its real size and clients would never meet the frame and body limits that real
payloads hit. The padding lives in chunks every decoder skips (JPEG APP15, a private PNG chunk,
an unknown WEBP chunk); pixels and the evidence record are untouched.
"""

from __future__ import annotations

import bisect
import functools
import struct
import zlib

FILLER = b"seedream-emulator padding, ignore. "
JPEG_SEGMENT = 65_533
PNG_CHUNK = 1 << 20
# Shared pieces of about a megabyte: full JPEG segments 16 at a time, and filler whole repeats of FILLER long (so the
# next piece starts where FILLER starts, and the file is the same bytes as one long filler).
JPEG_BLOCK = 16
FILLER_BLOCK = len(FILLER) * (PNG_CHUNK // len(FILLER))

# Typical bytes per pixel of photographic content by encoder quality (interpolated linearly).
BYTES_PER_PIXEL: dict[str, tuple[tuple[int, float], ...]] = {
    "jpeg": ((20, 0.06), (50, 0.10), (75, 0.15), (85, 0.22), (95, 0.40), (99, 0.75)),
    "webp": ((20, 0.03), (50, 0.05), (75, 0.08), (85, 0.12), (95, 0.22), (99, 0.40)),
    "png": ((0, 1.6), (100, 1.6)),
}


def typical_size(image_format: str, quality: int, pixels: int) -> int:
    points = BYTES_PER_PIXEL[image_format]
    qualities = [q for q, _ in points]
    index = min(max(bisect.bisect_left(qualities, quality), 1), len(points) - 1)
    (low_q, low_b), (high_q, high_b) = points[index - 1], points[index]
    ratio = min(max((quality - low_q) / (high_q - low_q), 0.0), 1.0)
    return int(pixels * (low_b + (high_b - low_b) * ratio))


# A padded file is served as consecutive pieces, most of them shared by every file (built once): joined, a 4K PNG
# is 27 MB copied under the interpreter lock, 20-30 ms that the event loop (every other request) waited for.
Pieces = tuple[bytes | memoryview, ...]


def pad(data: bytes, image_format: str, target: int) -> bytes:
    return join(pieces(data, image_format, target))


def pieces(data: bytes, image_format: str, target: int) -> Pieces:
    """`data` padded to `target` bytes, as the pieces that make it up in order (just `data` when it is big enough)."""
    missing = target - len(data)
    if missing <= 0:
        return (data,)
    if image_format == "jpeg":
        return _pad_jpeg(data, missing)
    if image_format == "png":
        return _pad_png(data, missing)
    return _pad_webp(data, missing)


def join(parts: Pieces) -> bytes:
    return parts[0] if len(parts) == 1 and isinstance(parts[0], bytes) else b"".join(parts)


def _filler(size: int) -> bytes:
    return (FILLER * (size // len(FILLER) + 1))[:size]


# Padding is made of identical pieces, built once: a 4K PNG carries 27 MB of it, and building it afresh (then copying
# it into the file twice over) held the interpreter for longer than rendering the picture.
@functools.cache
def _jpeg_segment(payload: int) -> bytes:
    return b"\xff\xef" + struct.pack(">H", payload + 2) + _filler(payload)


@functools.cache
def _png_chunk(payload: int) -> bytes:
    kind, data = b"sdPd", _filler(payload)
    return struct.pack(">I", payload) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pad_jpeg(data: bytes, missing: int) -> Pieces:
    # Segments of JPEG_SEGMENT bytes as long as they fit, then one of what is left (none when 4 bytes or fewer are).
    full, rest = divmod(missing, JPEG_SEGMENT + 4)
    blocks, singles = divmod(full, JPEG_BLOCK)
    last = [_segment_once(rest - 4)] if rest > 4 else []
    view = memoryview(data)
    return (view[:2], *[_jpeg_block()] * blocks, *[_jpeg_segment(JPEG_SEGMENT)] * singles, *last, view[2:])


@functools.cache
def _jpeg_block() -> bytes:
    return _jpeg_segment(JPEG_SEGMENT) * JPEG_BLOCK


def _segment_once(payload: int) -> bytes:
    return b"\xff\xef" + struct.pack(">H", payload + 2) + _filler(payload)


def _pad_png(data: bytes, missing: int) -> Pieces:
    # Private chunks of at most PNG_CHUNK bytes each, all alike but the last (a PNG may hold any number of them).
    payload = max(0, missing - 12)
    chunks = [_png_chunk(PNG_CHUNK)] * (payload // (PNG_CHUNK + 12))
    rest = payload - len(chunks) * (PNG_CHUNK + 12)
    last = _filler(rest)
    chunks.append(struct.pack(">I", rest) + b"sdPd" + last + struct.pack(">I", zlib.crc32(b"sdPd" + last)))
    view = memoryview(data)
    return (view[:-12], *chunks, view[-12:])


def _pad_webp(data: bytes, missing: int) -> Pieces:
    payload = max(0, missing - 8) // 2 * 2
    blocks, rest = divmod(payload, FILLER_BLOCK)
    size = len(data) - 8 + 8 + payload
    return (
        b"RIFF",
        struct.pack("<I", size),
        memoryview(data)[8:],
        b"PADD",
        struct.pack("<I", payload),
        *[_filler_block()] * blocks,
        _filler(rest),
    )


@functools.cache
def _filler_block() -> bytes:
    return _filler(FILLER_BLOCK)
