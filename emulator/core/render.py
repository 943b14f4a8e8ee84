"""Placeholder images that prove what was asked for.

Every image has exactly the requested size and format, shows the key parameters in its pixels and
carries a JSON record in its metadata (PNG text chunk `seedream`, JPEG/WEBP EXIF ImageDescription)
that `read_metadata` gives back.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Literal, NamedTuple

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from . import padding

ImageFormat = Literal["jpeg", "png", "webp"]

METADATA_KEY = "seedream"
EXIF_IMAGE_DESCRIPTION = 0x010E
MARKER = "seedream-emulator"
EXCERPT_LENGTH = 96
BANDS = 32
GRID = (255, 255, 255)
BOX = (16, 16, 16)
INK = (255, 255, 255)
# Canvases kept between renders: one 4096x4096 one. A process draws one image at a time (renders run in child
# processes, see renderers.py), and each child keeps its own.
CANVAS_BYTES = 64 * 2**20

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
    return padding.join(render_pieces(spec, realistic_size=realistic_size))


def render_pieces(spec: GenerationSpec, *, realistic_size: bool = True) -> padding.Pieces:
    """What `render` gives, as the pieces that make it up in order (padding.pieces says why)."""
    data = picture(spec)
    return padded(spec, data) if realistic_size else (data,)


def picture(spec: GenerationSpec) -> bytes:
    """The placeholder as its encoder writes it, before any padding (a few hundred KB at 4K)."""
    image = _draw(spec, CANVASES.take((spec.width, spec.height)))
    try:
        return _encode(spec, image)
    finally:
        CANVASES.give(image)


def padded(spec: GenerationSpec, data: bytes) -> padding.Pieces:
    """`picture`'s output padded to what a real photo of the spec's size and quality weighs, in pieces."""
    return padding.pieces(data, spec.format, padding.typical_size(spec.format, spec.quality, spec.width * spec.height))


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


class Canvases:
    """The canvas of the last render, kept for the next render of its size if it is at most `max_bytes`.

    A 4K canvas is 64 MiB; a fresh one costs its page faults and zeroing, about as much as JPEG-encoding it, every
    time, and a client mostly asks for one size again. One canvas, not one per size: after a fuzz of assorted sizes
    each render process held its whole budget in canvases. `_draw` paints every pixel, so what a kept canvas held
    before never shows."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._kept: Image.Image | None = None
        self._lock = threading.Lock()

    def take(self, size: tuple[int, int]) -> Image.Image:
        with self._lock:
            kept, self._kept = self._kept, None  # another size: let it go before a new one is made
        if kept is not None and kept.size == size:
            return kept
        del kept
        return Image.new("RGB", size, None)

    def give(self, image: Image.Image) -> None:
        with self._lock:
            self._kept = image if _bytes(image) <= self.max_bytes else None

    def clear(self) -> None:
        with self._lock:
            self._kept = None


def _bytes(image: Image.Image) -> int:
    return image.width * image.height * 4  # Pillow keeps RGB as 4 bytes a pixel


CANVASES = Canvases(CANVAS_BYTES)


def _draw(spec: GenerationSpec, image: Image.Image | None = None) -> Image.Image:
    """Bands of the spec's two colours, a white grid, and the caption in a dark box at the centre, on `image` (a
    canvas of the spec's size, whatever it holds) or a new one.

    Every pixel is painted once, so a reused canvas gives the same picture: bands and grid around the caption box,
    the box, then the caption's glyphs. 4K is 16 million pixels; painting them twice, or blending the caption into
    three channels a line at a time, used to cost more than encoding them."""
    width, height = spec.width, spec.height
    digest = bytes.fromhex(spec.content_key())
    start, end = _palette(digest[:3]), _palette(digest[3:6])
    face = _face(max(10, min(width, height) // 32))
    pad = face.size // 2
    lines = _lines(spec, face.size)
    step = face.baseline + pad
    text_width = max(face.width(line) for line in lines)
    text_height = step * (len(lines) - 1) + face.line_height
    left = max(0, (width - text_width) // 2)
    top = max(0, (height - text_height) // 2)
    # The box, clipped to the image: [x0, x1) x [y0, y1).
    x0, y0 = max(0, left - pad), max(0, top - pad)
    x1, y1 = min(width, left + text_width + pad + 1), min(height, top + text_height + pad + 1)

    if image is None:
        image = Image.new("RGB", (width, height), None)
    for band in range(BANDS):
        color = _mix(start, end, band / (BANDS - 1))
        first, last = band * height // BANDS, (band + 1) * height // BANDS
        for low, high, whole in ((first, min(last, y0), True), (max(first, y0), min(last, y1), False)):
            if low < high and whole:
                image.paste(color, (0, low, width, high))
            elif low < high:
                if x0 > 0:
                    image.paste(color, (0, low, x0, high))
                if x1 < width:
                    image.paste(color, (x1, low, width, high))
        low = max(first, y1)
        if low < last:
            image.paste(color, (0, low, width, last))
    draw = ImageDraw.Draw(image)
    grid = max(64, min(width, height) // 8)
    for x in range(0, width, grid):
        draw.line((x, 0, x, height), fill=GRID, width=1)
    for y in range(0, height, grid):
        draw.line((0, y, width, y), fill=GRID, width=1)
    if x0 < x1 and y0 < y1:
        image.paste(BOX, (x0, y0, x1, y1))
        for row, line in enumerate(lines):
            face.write(image, left, top + row * step, line, (x0, y0, x1, y1))
    return image


def _mix(start: tuple[int, int, int], end: tuple[int, int, int], ratio: float) -> tuple[int, int, int]:
    red, green, blue = (round(a + (b - a) * ratio) for a, b in zip(start, end, strict=True))
    return red, green, blue


def _lines(spec: GenerationSpec, size: int) -> list[str]:
    return [
        "SEEDREAM EMULATOR placeholder",
        f"{spec.provider} · {spec.model}",
        f"{spec.width}x{spec.height} {spec.format.upper()} q{spec.quality}",
        f"seed {spec.seed} · image {spec.index}",
        f"refs {spec.reference_count} · job {spec.job_id}",
        *_wrap(f"“{spec.prompt_excerpt}”", max(16, spec.width // max(1, size * 6 // 10))),
    ]


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)][:3]


def _palette(triple: bytes) -> tuple[int, int, int]:
    return (64 + triple[0] // 2, 64 + triple[1] // 2, 64 + triple[2] // 2)


class _Glyph(NamedTuple):
    mask: Image.Image | None  # None: nothing to draw (a space)
    tile: Image.Image | None  # the glyph already blended onto the caption box's colour
    left: int
    top: int
    advance: float


class _Face:
    """The default font at one size, each glyph rasterised once. FreeType rasterises every glyph of every line again
    otherwise, which was most of the cost of a 4K caption (a 128-pixel font)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.font = ImageFont.load_default(size=size)
        # Lines follow each other as in Pillow's multiline text: a capital's height plus the spacing apart.
        self.baseline = int(self.font.getbbox("A")[3])
        self.line_height = int(self.font.getbbox("Ag")[3])
        self._glyphs: dict[str, _Glyph] = {}

    def glyph(self, char: str) -> _Glyph:
        found = self._glyphs.get(char)
        if found is None:
            if isinstance(self.font, ImageFont.FreeTypeFont):
                mask, (left, top) = self.font.getmask2(char, mode="L")
            else:  # Pillow built without FreeType: its fixed bitmap font
                mask, (left, top) = self.font.getmask(char, mode="L"), (0, 0)
            width, height = mask.size
            image = tile = None
            if width and height:
                image = Image.frombytes("L", (width, height), bytes(mask))
                tile = Image.new("RGB", (width, height), BOX)
                tile.paste(INK, (0, 0), image)
            found = self._glyphs[char] = _Glyph(image, tile, left, top, self.font.getlength(char))
        return found

    def width(self, text: str) -> int:
        return math.ceil(sum(self.glyph(char).advance for char in text))

    def write(self, image: Image.Image, x: int, y: int, text: str, box: tuple[int, int, int, int]) -> None:
        """Draw `text` with its top left at (x, y), inside the caption `box` (left, top, right, bottom; painted BOX).

        A glyph whose rectangle lies in the box clear of the previous one is copied as its ready-blended tile, the
        same pixels as blending the ink through its mask onto the box colour, without the per-pixel blend in three
        channels (a 4K caption's blending cost as much as a quarter of encoding it); others are blended."""
        pen = float(x)
        clear = box[0]
        for char in text:
            glyph = self.glyph(char)
            if glyph.mask is not None and glyph.tile is not None:
                left, top = round(pen) + glyph.left, y + glyph.top
                right, bottom = left + glyph.tile.width, top + glyph.tile.height
                if clear <= left and right <= box[2] and box[1] <= top and bottom <= box[3]:
                    image.paste(glyph.tile, (left, top))
                else:
                    image.paste(INK, (left, top), glyph.mask)
                clear = max(clear, right)
            pen += glyph.advance


_faces = threading.local()
MAX_FACES = 4


def _face(size: int) -> _Face:
    # FreeType faces are not safe to share between the render threads; each thread keeps its most recent sizes.
    faces: OrderedDict[int, _Face] = _faces.__dict__.setdefault("by_size", OrderedDict())
    face = faces.get(size)
    if face is None:
        face = faces[size] = _Face(size)
        while len(faces) > MAX_FACES:
            faces.popitem(last=False)
    faces.move_to_end(size)
    return face
