"""Cassette lines: bodies as the cassette holds them, redaction, and normalisation for matching.

Nothing here names a surface: what is secret, volatile or a callback comes from the surface's
`contracts/<surface>/recording.json` (`contracts.cassette.RecordingRules`).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlencode

from PIL import Image

from contracts.cassette import FORMAT, VERSION, RecordingRules

from ..core import padding
from ..core.render import GenerationSpec, ImageFormat, render

REDACTED = "[redacted]"
TOO_DEEP = "[not recorded: JSON nested too deeply to redact]"
TOKEN = re.compile(r"^\[token:\d+\]$")
VOLATILE = "<volatile>"
CALLBACK = "<callback>"
# Base64 that may be an image: long enough to be worth a look, and only base64 characters.
BASE64_IMAGE = re.compile(r"^[A-Za-z0-9+/\s]{64,}={0,2}$")
DATA_IMAGE = re.compile(r"^data:(image/[\w.+-]+);base64,", re.I)
RENDERED: tuple[ImageFormat, ...] = ("jpeg", "png", "webp")
# A secret shorter than this is not scrubbed from free text: "abc" would also eat ordinary words.
SCRUB_MIN = 6
HOP_BY_HOP = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "accept-encoding",
    }
)
WEBSOCKET_HANDSHAKE = frozenset(
    {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept"}
)


class CassetteError(ValueError):
    pass


@dataclass(frozen=True)
class ImageSummary:
    size: int
    format: str
    width: int
    height: int

    def as_dict(self) -> dict[str, Any]:
        return {"size": self.size, "format": self.format, "width": self.width, "height": self.height}


def summarise_image(data: bytes) -> ImageSummary | None:
    """Format and dimensions read from the header only; None when the bytes are no image Pillow knows."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as image:
                return ImageSummary(len(data), (image.format or "unknown").lower(), image.size[0], image.size[1])
    except Exception:  # Pillow raises many kinds for bytes that are no image; all mean "not one"
        return None


def placeholder(summary: Mapping[str, Any], label: str) -> bytes:
    """An evidence placeholder standing for a recorded image: its dimensions, its format where the renderer
    has it (else PNG), padded to the recorded byte size so clients that check sizes see the same."""
    kind = str(summary.get("format", "png"))
    fmt: ImageFormat = next((known for known in RENDERED if known == kind), "png")
    width, height = max(1, int(summary.get("width", 1))), max(1, int(summary.get("height", 1)))
    spec = GenerationSpec.create(
        prompt=f"replayed image {label}",
        provider="cassette",
        model="recorded",
        job_id=label,
        index=0,
        seed=0,
        width=width,
        height=height,
        format=fmt,
        quality=90,
        reference_count=0,
    )
    data = render(spec, realistic_size=False)
    size = int(summary.get("size", 0))
    return padding.pad(data, fmt, size) if size > len(data) else data


class Redactor:
    """Replaces credentials by [redacted] and tokens by stable pseudonyms ([token:1], ...), remembering every
    value it took out so that `scrub` can remove it wherever else it turns up (an echo in an error message)."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._credentials: set[str] = set()

    def credential(self, value: str) -> str:
        if value and value != REDACTED:
            self._credentials.add(value)
        return REDACTED

    def token(self, value: str) -> str:
        if not value or TOKEN.match(value):
            return value
        if value not in self._tokens:
            self._tokens[value] = f"[token:{len(self._tokens) + 1}]"
        return self._tokens[value]

    def header(self, name: str, value: str, secret: frozenset[str]) -> str:
        if name not in secret:
            return value
        scheme, _, rest = value.partition(" ")
        if rest and name in ("authorization", "proxy-authorization"):
            return f"{scheme} {self.credential(rest.strip())}"  # the scheme is no secret, and drift compares it
        return self.credential(value)

    def headers(self, pairs: Any, secret: frozenset[str], *, keep_handshake: bool = False) -> dict[str, str]:
        """Lowercased headers without hop-by-hop ones, repeated names joined, secrets redacted."""
        result: dict[str, str] = {}
        for raw_name, raw_value in pairs:
            name = (raw_name.decode("latin-1") if isinstance(raw_name, bytes) else str(raw_name)).lower()
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else str(raw_value)
            if name in HOP_BY_HOP or (name in WEBSOCKET_HANDSHAKE and not keep_handshake):
                continue
            value = self.header(name, value, secret)
            result[name] = f"{result[name]}, {value}" if name in result else value
        return result

    def json(self, value: Any, rules: RecordingRules) -> Any:
        if isinstance(value, dict):
            return {key: self._field(key, item, rules) for key, item in value.items()}
        if isinstance(value, list):
            return [self.json(item, rules) for item in value]
        return value

    def _field(self, key: str, value: Any, rules: RecordingRules) -> Any:
        if key in rules.credential_fields:
            return self.credential(value) if isinstance(value, str) else REDACTED
        if key in rules.token_fields:
            return self.token(value) if isinstance(value, str) else REDACTED
        return self.json(value, rules)

    def text(self, text: str, rules: RecordingRules) -> str:
        """Text that is not JSON (a malformed body) with secret fields redacted where they look like JSON members
        (`"apiKey": "..."`) or form pairs (`apiKey=...`)."""
        for name in rules.secret_fields:

            def member(match: re.Match[str], name: str = name) -> str:
                return f'{json.dumps(name)}{match.group(1)}"{self._secret(name, match.group(2), rules)}"'

            def pair(match: re.Match[str], name: str = name) -> str:
                return f"{name}={self._secret(name, match.group(1), rules)}"

            text = re.sub(re.escape(json.dumps(name)) + r'(\s*:\s*)"((?:[^"\\]|\\.)*)"', member, text)
            text = re.sub(r"(?<![\w-])" + re.escape(name) + r"=([^&\s]*)", pair, text)
        return text

    def _secret(self, name: str, value: str, rules: RecordingRules) -> str:
        return self.credential(value) if name in rules.credential_fields else self.token(value)

    def scrub(self, text: str) -> str:
        """`text` (a serialised line) with every remembered secret replaced, raw or JSON-escaped."""
        for secret in sorted(self._credentials, key=len, reverse=True):
            if len(secret) >= SCRUB_MIN:
                text = text.replace(secret, REDACTED).replace(_escaped(secret), REDACTED)
        for secret, pseudonym in sorted(self._tokens.items(), key=lambda item: -len(item[0])):
            if len(secret) >= SCRUB_MIN:
                text = text.replace(secret, pseudonym).replace(_escaped(secret), pseudonym)
        return text


def _escaped(text: str) -> str:
    """`text` as it appears inside a JSON string written by `Writer` (which keeps non-ASCII characters)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def encode_body(data: bytes, content_type: str | None, rules: RecordingRules, redactor: Redactor | None) -> Any:
    """A body as the cassette holds it (see contracts/cassette/line.json): never an image's bytes. Without a
    redactor nothing is redacted (drift reads the emulator's own replies so, to learn the ids it hands out)."""
    if not data:
        return None
    media = media_type(content_type)
    summary = summarise_image(data) if media.startswith("image/") or _maybe_binary(data) else None
    if summary is not None:
        return {"image": summary.as_dict()}
    if media == "multipart/form-data":
        parts = _multipart(data, content_type or "", rules, redactor)
        if parts is not None:
            return {"form": parts}
    if media == "application/x-www-form-urlencoded":
        pairs = parse_qsl(data.decode("latin-1"), keep_blank_values=True)
        return {"form": [{"name": name, "value": _form_value(name, value, rules, redactor)} for name, value in pairs]}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}
    return _json_or_text(text, rules, redactor)


def encode_frame(text: str | bytes, rules: RecordingRules, redactor: Redactor | None) -> Any:
    if isinstance(text, bytes):
        return encode_body(text, None, rules, redactor)
    return _json_or_text(text, rules, redactor)


def _json_or_text(text: str, rules: RecordingRules, redactor: Redactor | None) -> Any:
    try:
        document = json.loads(text)
    except RecursionError:
        return {"text": TOO_DEEP if redactor else text}
    except ValueError:
        return {"text": redactor.text(text, rules) if redactor else text}
    try:
        document = inline_images(document)
        result = {"json": redactor.json(document, rules) if redactor else document}
        normalised(result, rules)  # what replay will do with it must work too
    except RecursionError:
        # Too deep to walk, so too deep to redact: a recording keeps a marker, never the unredacted text.
        return {"text": TOO_DEEP if redactor else text}
    return result


def _maybe_binary(data: bytes) -> bool:
    """Whether bytes might be an image: anything but JSON (WEBP starts with ASCII, so no cheaper test)."""
    return data.lstrip()[:1] not in (b"{", b"[", b'"')


def _form_value(name: str, value: str, rules: RecordingRules, redactor: Redactor | None) -> str:
    if redactor is None:
        return value
    if name in rules.credential_fields:
        return redactor.credential(value)
    if name in rules.token_fields:
        return redactor.token(value)
    return value


def _multipart(data: bytes, content_type: str, rules: RecordingRules, redactor: Redactor | None) -> list[Any] | None:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + data
    )
    if not message.is_multipart():
        return None
    parts: list[Any] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        entry: dict[str, Any] = {"name": str(name or ""), "filename": filename, "content_type": part.get_content_type()}
        summary = summarise_image(content) if filename or _maybe_binary(content) else None
        if summary is not None:
            entry["image"] = summary.as_dict()
        elif filename:
            entry["base64"] = base64.b64encode(content).decode("ascii")
        else:
            entry["value"] = _form_value(entry["name"], content.decode("utf-8", "replace"), rules, redactor)
        parts.append(entry)
    return parts


def inline_images(value: Any) -> Any:
    """JSON with every inline image (data URI or long base64) replaced by {"$image": summary, "$encoding": ...}."""
    if isinstance(value, dict):
        return {key: inline_images(item) for key, item in value.items()}
    if isinstance(value, list):
        return [inline_images(item) for item in value]
    if isinstance(value, str) and len(value) >= 64:
        match = DATA_IMAGE.match(value)
        payload = value[match.end() :] if match else value if BASE64_IMAGE.match(value) else None
        if payload is not None:
            compact = "".join(payload.split())
            try:
                summary = summarise_image(base64.b64decode(compact + "=" * (-len(compact) % 4)))
            except (binascii.Error, ValueError):
                summary = None
            if summary is not None:
                return {"$image": summary.as_dict(), "$encoding": "data-uri" if match else "base64"}
    return value


def restore_images(value: Any, label: str) -> Any:
    """The inverse of `inline_images`: each summary becomes a placeholder image, encoded as it was recorded."""
    if isinstance(value, dict):
        if "$image" in value and isinstance(value["$image"], dict):
            data = placeholder(value["$image"], label)
            encoded = base64.b64encode(data).decode("ascii")
            kind = str(value["$image"].get("format", "png"))
            kind = kind if kind in RENDERED else "png"
            return f"data:image/{kind};base64,{encoded}" if value.get("$encoding") == "data-uri" else encoded
        return {key: restore_images(item, label) for key, item in value.items()}
    if isinstance(value, list):
        return [restore_images(item, label) for item in value]
    return value


def body_bytes(body: Any, label: str) -> tuple[bytes, str | None]:
    """Bytes to send for a recorded body, and their content type (None: keep the recorded header)."""
    if body is None:
        return b"", None
    if "json" in body:
        return json.dumps(restore_images(body["json"], label), ensure_ascii=False).encode(), None
    if "text" in body:
        return str(body["text"]).encode(), None
    if "base64" in body:
        return base64.b64decode(body["base64"]), None
    if "image" in body:
        kind = str(body["image"].get("format", "png"))
        return placeholder(body["image"], label), f"image/{kind if kind in RENDERED else 'png'}"
    if "form" in body:
        return _encode_form(body["form"], label)
    raise CassetteError(f"unknown body kind {sorted(body)}")


def _encode_form(parts: list[dict[str, Any]], label: str) -> tuple[bytes, str]:
    if all("value" in part and not part.get("filename") and "content_type" not in part for part in parts):
        return urlencode(
            [(part["name"], part["value"]) for part in parts]
        ).encode(), "application/x-www-form-urlencoded"
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for part in parts:
        disposition = f'form-data; name="{part["name"]}"'
        if part.get("filename"):
            disposition += f'; filename="{part["filename"]}"'
        if "image" in part:
            content = placeholder(part["image"], label)
        elif "base64" in part:
            content = base64.b64decode(part["base64"])
        else:
            content = str(part.get("value", "")).encode()
        out.write(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode())
        if part.get("filename"):
            out.write(f"Content-Type: {part.get('content_type') or 'application/octet-stream'}\r\n".encode())
        out.write(b"\r\n" + content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def normalised(body: Any, rules: RecordingRules) -> str:
    """A body's matching key: volatile and token values (they differ on every run) and callback URLs blanked,
    credentials already redacted; canonical JSON text."""

    def blank(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: _blanked(key, item) for key, item in value.items()}
        if isinstance(value, list):
            return [blank(item) for item in value]
        return value

    def _blanked(key: str, value: Any) -> Any:
        if key in rules.volatile_fields or key in rules.token_fields:
            return VOLATILE
        if key in rules.callback_fields:
            return CALLBACK
        return blank(value)

    if body is not None and "form" in body:
        body = {
            "form": [
                {**part, "value": _blanked(part["name"], part["value"])} if "value" in part else part
                for part in body["form"]
            ]
        }
    return json.dumps(blank(body), sort_keys=True, ensure_ascii=False)


def normalised_query(query: str, rules: RecordingRules) -> str:
    """A query string's matching key: parameters sorted, callback URLs and volatile values blanked."""
    blanked = [
        (name, CALLBACK if name in rules.callback_fields else VOLATILE if name in rules.volatile_fields else value)
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    return urlencode(sorted(blanked))


def query_callbacks(query: str, rules: RecordingRules) -> list[tuple[str, str]]:
    """(parameter, URL) for each callback URL passed in a query string."""
    return [(name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name in rules.callback_fields]


def pairs(recorded: Any, live: Any, names: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(recorded, live) string values found at the same place under one of `names` in two JSON documents."""
    if isinstance(recorded, dict) and isinstance(live, dict):
        for key, value in recorded.items():
            if key not in live:
                continue
            if key in names and isinstance(value, str) and isinstance(live[key], str):
                if value != live[key]:
                    yield value, live[key]
            else:
                yield from pairs(value, live[key], names)
    elif isinstance(recorded, list) and isinstance(live, list):
        for one, other in zip(recorded, live, strict=False):
            yield from pairs(one, other, names)


def substitute(value: Any, mapping: Mapping[str, str]) -> Any:
    """`value` with every mapped string replaced, whole or inside a longer string (an id in a URL)."""
    if not mapping:
        return value
    if isinstance(value, str):
        if value in mapping:
            return mapping[value]
        for old, new in mapping.items():
            if len(old) >= SCRUB_MIN and old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: substitute(item, mapping) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, mapping) for item in value]
    return value


@dataclass
class Cassette:
    """A cassette read back: its header and exchanges in the order they began."""

    header: dict[str, Any]
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, path: str | Path) -> Cassette:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CassetteError(f"cannot read cassette {path}: {exc}") from exc
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise CassetteError(f"{path}:{number}: not JSON ({exc})") from exc
        if not records or not isinstance(records[0], dict) or records[0].get("format") != FORMAT:
            raise CassetteError(f"{path} is not a {FORMAT} file (its first line must be the header)")
        if records[0].get("version") != VERSION:
            raise CassetteError(f"{path} is {FORMAT} version {records[0].get('version')}; this reads version {VERSION}")
        exchanges = [record for record in records[1:] if isinstance(record, dict) and "kind" in record]
        return cls(records[0], sorted(exchanges, key=lambda exchange: int(exchange.get("seq", 0))))

    def callbacks_for(self, seq: int) -> list[dict[str, Any]]:
        return [
            exchange for exchange in self.exchanges if exchange["kind"] == "callback" and exchange.get("for") == seq
        ]


class Writer:
    """Appends lines to a cassette file, each scrubbed of every secret seen so far, flushed at once."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self.stream = stream
        self.redactor = redactor

    def write(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        self.stream.write(self.redactor.scrub(line) + "\n")
        self.stream.flush()
