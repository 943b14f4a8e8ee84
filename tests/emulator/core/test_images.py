import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core import images
from tests.support import data_uri, image_bytes


@pytest.mark.parametrize("fmt, kind", [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")])
def test_supported_images_report_format_and_size(fmt: str, kind: str) -> None:
    info = images.inspect(image_bytes(31, 17, fmt))
    assert (info.format, info.width, info.height) == (kind, 31, 17)


def test_unsupported_formats_are_refused_by_name() -> None:
    with pytest.raises(images.BrokenImage, match="GIF"):
        images.inspect(image_bytes(fmt="GIF"))


def test_truncated_images_are_broken() -> None:
    with pytest.raises(images.BrokenImage):
        images.inspect(image_bytes(200, 200, "PNG")[:100])


@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise_anything_but_broken_image(data: bytes) -> None:
    with contextlib.suppress(images.BrokenImage):
        images.inspect(data)


def test_data_uris_decode_to_their_bytes() -> None:
    media, data = images.decode_data_uri(data_uri(fmt="JPEG"))
    assert media == "image/jpeg"
    assert images.inspect(data).format == "jpeg"


@pytest.mark.parametrize("text", ["data:image/png,rawtext", "data:;base64,@@@", "data:image/png;base64,a b c !"])
def test_malformed_data_uris_are_broken(text: str) -> None:
    with pytest.raises(images.BrokenImage):
        images.decode_data_uri(text)


def test_base64_without_padding_is_accepted() -> None:
    raw = image_bytes()
    text = base64.b64encode(raw).decode().rstrip("=")
    assert images.decode_base64(text) == raw
