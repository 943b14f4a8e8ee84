import hashlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from emulator.core.render import NotEvidence, read_metadata, render
from tests.support import generation_spec, image_bytes

spec = generation_spec


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 700),
    height=st.integers(1, 700),
    fmt=st.sampled_from(["jpeg", "png", "webp"]),
    quality=st.integers(20, 99),
    prompt=st.text(max_size=300),
    seed=st.integers(0, 2**63),
)
def test_image_has_requested_size_format_and_readable_record(
    width: int, height: int, fmt: str, quality: int, prompt: str, seed: int
) -> None:
    wanted = spec(width=width, height=height, format=fmt, quality=quality, prompt=prompt, seed=seed)
    data = render(wanted)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (width, height)
        assert image.format == fmt.upper()
    record = read_metadata(data)
    assert record == wanted.metadata()
    assert record["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()


def test_metadata_carries_every_field_the_harness_checks() -> None:
    record = read_metadata(render(spec()))
    assert set(record) == {
        "emulator",
        "provider",
        "model",
        "job_id",
        "index",
        "seed",
        "width",
        "height",
        "format",
        "quality",
        "prompt_sha256",
        "reference_count",
    }


def test_identical_specs_give_identical_bytes() -> None:
    assert render(spec(format="jpeg")) == render(spec(format="jpeg"))


@pytest.mark.parametrize("change", [{"seed": 43}, {"index": 1}, {"prompt": "another"}, {"job_id": "job-2"}])
def test_any_parameter_change_changes_the_image(change: dict[str, object]) -> None:
    assert render(spec(**change)) != render(spec())


def test_jpeg_quality_is_applied() -> None:
    low = render(spec(format="jpeg", quality=20, width=800, height=800))
    high = render(spec(format="jpeg", quality=99, width=800, height=800))
    assert len(low) < len(high)


def test_long_prompts_are_shown_as_an_excerpt_but_hashed_whole() -> None:
    long = "x" * 2000
    made = spec(prompt=long)
    assert len(made.prompt_excerpt) <= 96
    assert made.prompt_sha256 == hashlib.sha256(long.encode()).hexdigest()


@pytest.mark.parametrize("data", [b"", b"not an image", image_bytes(fmt="PNG"), image_bytes(fmt="JPEG")])
def test_foreign_bytes_are_not_evidence(data: bytes) -> None:
    with pytest.raises(NotEvidence):
        read_metadata(data)


def test_a_reused_canvas_gives_the_same_bytes_whatever_it_held() -> None:
    from emulator.core import render as module

    wanted = spec(format="png", width=300, height=180)
    fresh = render(wanted)
    noise = Image.frombytes("RGB", (300, 180), bytes(range(256)) * (300 * 180 * 3 // 256 + 1))
    module.CANVASES.clear()
    module.CANVASES.give(noise)
    assert render(wanted) == fresh
    assert render(spec(format="png", width=300, height=180, prompt="another one")) != fresh
    assert render(wanted) == fresh


def test_only_the_last_canvas_is_kept_and_only_within_the_budget() -> None:
    from emulator.core.render import Canvases

    kept = Canvases(max_bytes=100 * 100 * 4)
    small, large = Image.new("RGB", (50, 50)), Image.new("RGB", (100, 100))
    kept.give(small)
    kept.give(large)
    assert kept.take((50, 50)) is not small  # only the last one was kept, and asking for another size let it go
    assert kept.take((100, 100)) is not large
    kept.give(large)
    assert kept.take((100, 100)) is large
    kept.give(Image.new("RGB", (101, 100)))  # beyond the budget: not kept
    assert kept.take((101, 100)).size == (101, 100) and kept._kept is None


@pytest.mark.parametrize("size", [(1, 1), (5, 300), (300, 5), (333, 777), (1000, 200)])
def test_every_pixel_is_painted_on_any_canvas(size: tuple[int, int]) -> None:
    """The canvas is not cleared between renders: a picture drawn on black and on white must be the same."""
    from emulator.core.render import _draw

    wanted = spec(width=size[0], height=size[1])
    on_black = _draw(wanted, Image.new("RGB", size, (0, 0, 0)))
    on_white = _draw(wanted, Image.new("RGB", size, (255, 255, 255)))
    assert on_black.tobytes() == on_white.tobytes()
