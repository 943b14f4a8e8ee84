"""Placeholder images that prove what was asked for.

Every image has exactly the requested size and format, shows the key parameters in its pixels and
carries a JSON record in its metadata (PNG text chunk `seedream`, JPEG/WEBP EXIF ImageDescription)
that `read_metadata` gives back.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from dataclasses import asdict, dataclass
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from . import padding

ImageFormat = Literal["jpeg", "png", "webp"]

METADATA_KEY = "seedream"
EXIF_IMAGE_DESCRIPTION = 0x010E
MARKER = "seedream-emulator"
EXCERPT_LENGTH = 96
BANDS = 32
GRID = (255, 255, 255)

MEDIA_TYPES: dict[str, str] = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS: dict[str, str] = {"jpeg": "jpg", "png": "png", "webp": "webp"}


class NotEvidence(ValueError):
    """The bytes are not an image this emulator rendered."""


@dataclass(frozen=True)
class GenerationSpec:
    provider: str
    model: str
    job_id: str
    index: int
    seed: int
    width: int
    height: int
    format: ImageFormat
    quality: int
    prompt_sha256: str
    prompt_excerpt: str
    reference_count: int

    @classmethod
    def create(cls, *, prompt: str, **fields: object) -> GenerationSpec:
        excerpt = prompt if len(prompt) <= EXCERPT_LENGTH else prompt[: EXCERPT_LENGTH - 1] + "…"
        digest = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
        return cls(prompt_sha256=digest, prompt_excerpt=excerpt, **fields)  # type: ignore[arg-type]

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    def metadata(self) -> dict[str, object]:
        record = asdict(self)
        del record["prompt_excerpt"]
        return {"emulator": MARKER, **record}

    def content_key(self) -> str:
        canonical = json.dumps(asdict(self), sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def render(spec: GenerationSpec, *, realistic_size: bool = True) -> bytes:
    """Encode the placeholder; `realistic_size` pads it to what a real photo would weigh."""
    data = _encode(spec, _draw(spec))
    if realistic_size:
        data = padding.pad(data, spec.format, padding.typical_size(spec.format, spec.quality, spec.width * spec.height))
    return data


def _encode(spec: GenerationSpec, image: Image.Image) -> bytes:
    record = json.dumps(spec.metadata(), sort_keys=True, ensure_ascii=True)
    out = io.BytesIO()
    if spec.format == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text(METADATA_KEY, record)
        image.save(out, "PNG", pnginfo=info, compress_level=1)
    else:
        exif = Image.Exif()
        exif[EXIF_IMAGE_DESCRIPTION] = record
        if spec.format == "jpeg":
            image.save(out, "JPEG", quality=spec.quality, exif=exif.tobytes())
        else:
            image.save(out, "WEBP", quality=spec.quality, method=0, exif=exif.tobytes())
    return out.getvalue()


def read_metadata(data: bytes) -> dict[str, object]:
    """The JSON record embedded by `render`; raises `NotEvidence` for any other bytes."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            raw = image.info.get(METADATA_KEY) if image.format == "PNG" else image.getexif().get(EXIF_IMAGE_DESCRIPTION)
    except (OSError, ValueError, SyntaxError) as exc:
        raise NotEvidence(f"not a readable image: {exc}") from exc
    if not isinstance(raw, (str, bytes)):
        raise NotEvidence("the image carries no seedream record")
    try:
        record = json.loads(raw)
    except ValueError as exc:
        raise NotEvidence("the seedream record is not JSON") from exc
    if not isinstance(record, dict) or record.get("emulator") != MARKER:
        raise NotEvidence("the image was not rendered by the seedream emulator")
    return record


def _draw(spec: GenerationSpec) -> Image.Image:
    width, height = spec.width, spec.height
    digest = bytes.fromhex(spec.content_key())
    start, end = _palette(digest[:3]), _palette(digest[3:6])
    bands = Image.new("RGB", (1, BANDS))
    bands.putdata([_mix(start, end, band / (BANDS - 1)) for band in range(BANDS)])
    # One resize allocates and paints the whole canvas; filling it first would touch every pixel twice.
    image = bands.resize((width, height), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    grid = max(64, min(width, height) // 8)
    for x in range(0, width, grid):
        draw.line((x, 0, x, height), fill=GRID, width=1)
    for y in range(0, height, grid):
        draw.line((0, y, width, y), fill=GRID, width=1)
    _caption(draw, spec)
    return image


def _mix(start: tuple[int, int, int], end: tuple[int, int, int], ratio: float) -> tuple[int, int, int]:
    red, green, blue = (round(a + (b - a) * ratio) for a, b in zip(start, end, strict=True))
    return red, green, blue


def _caption(draw: ImageDraw.ImageDraw, spec: GenerationSpec) -> None:
    size = max(10, min(spec.width, spec.height) // 32)
    font = _font(size)
    lines = [
        "SEEDREAM EMULATOR placeholder",
        f"{spec.provider} · {spec.model}",
        f"{spec.width}x{spec.height} {spec.format.upper()} q{spec.quality}",
        f"seed {spec.seed} · image {spec.index}",
        f"refs {spec.reference_count} · job {spec.job_id}",
        *_wrap(f"“{spec.prompt_excerpt}”", max(16, spec.width // max(1, size * 6 // 10))),
    ]
    pad = size // 2
    text = "\n".join(lines)
    box = draw.multiline_textbbox((0, 0), text, font=font, spacing=pad)
    left = max(0, (spec.width - box[2]) // 2)
    top = max(0, (spec.height - box[3]) // 2)
    draw.rectangle((left - pad, top - pad, left + box[2] + pad, top + box[3] + pad), fill=(16, 16, 16))
    draw.multiline_text((left, top), text, font=font, fill=(255, 255, 255), spacing=pad)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)][:3]


def _palette(triple: bytes) -> tuple[int, int, int]:
    return (64 + triple[0] // 2, 64 + triple[1] // 2, 64 + triple[2] // 2)


_fonts = threading.local()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # FreeType faces are not safe to share between the render threads.
    cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = _fonts.__dict__.setdefault("by_size", {})
    if size not in cache:
        cache[size] = ImageFont.load_default(size=size)
    return cache[size]
