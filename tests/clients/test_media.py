"""Inline images: sniffing formats, data URIs both ways, local files."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients._media import data_uri, decode_data_uri, inline, is_data_uri, load, sniff
from tests.support import image_bytes


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif")]
)
def test_formats_are_recognised_by_their_bytes(fmt: str, media_type: str) -> None:
    assert sniff(image_bytes(fmt=fmt)) == media_type
    assert data_uri(image_bytes(fmt=fmt)).startswith(f"data:{media_type};base64,")


def test_unknown_bytes_are_octet_stream() -> None:
    assert sniff(b"hello") == "application/octet-stream"


@given(st.binary(max_size=2048))
def test_data_uris_round_trip(data: bytes) -> None:
    assert decode_data_uri(data_uri(data))[0] == data


def test_percent_encoded_data_uris_decode_too() -> None:
    assert decode_data_uri("data:text/plain,a%20b") == (b"a b", "text/plain")
    with pytest.raises(ValueError):
        decode_data_uri("https://example.com/a.png")


def test_paths_and_bytes_are_inlined_and_everything_else_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ref.png"
    path.write_bytes(image_bytes())
    assert inline(path) == inline(image_bytes()) == data_uri(image_bytes())
    for value in ("https://example.com/a.png", "8b9a0b6e-2f1f-4c47-9d3e-1b7b6a0c2b1d", base64.b64encode(b"x").decode()):
        assert inline(value) == value
    assert is_data_uri("DATA:image/png;base64,AA==") and not is_data_uri(b"data:")
    assert load(path).name == "ref.png" and load(image_bytes()).name == "image.png"
