import io

import pytest
from PIL import Image

from emulator.core.padding import pad, typical_size
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
