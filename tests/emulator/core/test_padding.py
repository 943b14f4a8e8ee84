import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from emulator.core.padding import PNG_CHUNK, pad, pieces, typical_size
from emulator.core.render import GenerationSpec, read_metadata, render


def spec(fmt: str, quality: int = 95, size: int = 1024) -> GenerationSpec:
    return GenerationSpec.create(
        prompt="p",
        provider="t",
        model="m",
        job_id="j",
        index=0,
        seed=1,
        width=size,
        height=size,
        format=fmt,
        quality=quality,
        reference_count=0,
    )


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_padded_images_weigh_what_a_photo_would_and_still_decode(fmt: str) -> None:
    made = spec(fmt)
    data = render(made)
    assert len(data) >= typical_size(fmt, 95, 1024 * 1024)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (1024, 1024)
    assert read_metadata(data) == made.metadata()


def test_four_k_jpeg_is_several_megabytes_like_the_real_service() -> None:
    assert 5_000_000 < typical_size("jpeg", 95, 4096 * 4096) < 9_000_000


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_lower_quality_means_smaller_files(fmt: str) -> None:
    assert typical_size(fmt, 20, 10**6) < typical_size(fmt, 60, 10**6) < typical_size(fmt, 99, 10**6)


def test_compact_mode_leaves_the_encoder_output_alone() -> None:
    assert len(render(spec("jpeg"), realistic_size=False)) < len(render(spec("jpeg")))


def test_pad_never_shrinks() -> None:
    assert pad(b"\xff\xd8abc", "jpeg", 2) == b"\xff\xd8abc"


@pytest.mark.parametrize("missing", [1, 11, 12, 13, 1 << 20, (1 << 20) + 12, (1 << 20) + 13, 3 * ((1 << 20) + 12) + 5])
def test_png_padding_is_exact_in_any_number_of_chunks(missing: int) -> None:
    data = render(spec("png", size=64), realistic_size=False)
    padded = pad(data, "png", len(data) + missing)
    assert len(padded) == len(data) + max(missing, 12)
    with Image.open(io.BytesIO(padded)) as image:
        image.load()
    assert read_metadata(padded) == spec("png", size=64).metadata()


def test_jpeg_padding_is_whole_segments_then_the_rest() -> None:
    data = render(spec("jpeg", size=64), realistic_size=False)
    padded = pad(data, "jpeg", len(data) + 3 * 65_537 + 100)
    assert len(padded) == len(data) + 3 * 65_537 + 100
    assert padded[:2] == data[:2] and padded.endswith(data[2:])
    Image.open(io.BytesIO(padded)).load()


@settings(max_examples=40, deadline=None)
@given(fmt=st.sampled_from(["jpeg", "png", "webp"]), missing=st.integers(0, 12_000_000))
def test_padding_comes_in_pieces_of_a_megabyte_at_most_that_make_a_valid_image(fmt: str, missing: int) -> None:
    made = spec(fmt, size=64)
    data = render(made, realistic_size=False)
    parts = pieces(data, fmt, len(data) + missing)
    # Each piece is sent on its own; none but the encoder's output is big enough to hold the event loop up.
    of_data = [part is data or (isinstance(part, memoryview) and part.obj is data) for part in parts]
    assert all(len(part) <= PNG_CHUNK + 64 for part, ours in zip(parts, of_data, strict=True) if not ours)
    padded = b"".join(parts)
    assert len(data) + missing - 12 <= len(padded) <= len(data) + max(missing, 12)
    with Image.open(io.BytesIO(padded)) as image:
        image.load()
        assert image.size == (64, 64)
    assert read_metadata(padded) == made.metadata()
