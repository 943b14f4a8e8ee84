"""The documented ratio x quality table, `auto` and pixel sizes, as the generated images show them."""

from __future__ import annotations

import pytest

from tests.support import data_uri

from .conftest import EvoLink, body

# The table of the provider sheet (section 2.2), typed independently of contracts/evolink/rules.json.
TABLE = {
    "1:1": {"1K": (1024, 1024), "2K": (2048, 2048), "4K": (4096, 4096)},
    "2:3": {"1K": (832, 1248), "2K": (1664, 2496), "4K": (3328, 4992)},
    "3:2": {"1K": (1248, 832), "2K": (2496, 1664), "4K": (4992, 3328)},
    "3:4": {"1K": (864, 1152), "2K": (1728, 2304), "4K": (3520, 4704)},
    "4:3": {"1K": (1152, 864), "2K": (2304, 1728), "4K": (4704, 3520)},
    "4:5": {"1K": (896, 1120), "2K": (1792, 2240), "4K": (3584, 4480)},
    "5:4": {"1K": (1120, 896), "2K": (2240, 1792), "4K": (4480, 3584)},
    "9:16": {"1K": (720, 1280), "2K": (1600, 2848), "4K": (3040, 5504)},
    "16:9": {"1K": (1280, 720), "2K": (2848, 1600), "4K": (5504, 3040)},
    "21:9": {"1K": (1512, 648), "2K": (3136, 1344), "4K": (6240, 2656)},
}


def output_sizes(evolink: EvoLink, task: dict) -> set[tuple[int, int]]:
    return {(spec.width, spec.height) for spec in map(evolink.spec, task["results"])}


@pytest.mark.parametrize("ratio", TABLE)
@pytest.mark.parametrize("quality", ["1K", "2K", "4K"])
async def test_ratio_and_quality_give_the_documented_pixels(evolink: EvoLink, ratio: str, quality: str) -> None:
    task = await evolink.finished(size=ratio, quality=quality)
    assert output_sizes(evolink, task) == {TABLE[ratio][quality]}


@pytest.mark.parametrize("ratio", TABLE)
async def test_quality_defaults_to_2k(evolink: EvoLink, ratio: str) -> None:
    assert output_sizes(evolink, await evolink.finished(size=ratio)) == {TABLE[ratio]["2K"]}


@pytest.mark.parametrize("size", ["1K", "2K", "4K", "9:21"])
async def test_sizes_the_seed_does_not_list_are_refused(evolink: EvoLink, size: str) -> None:
    """Legacy tiers (older doc) and 9:21 (newer generated docs) are outside the seed's list."""
    response = await evolink.post(json=body(size=size))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "size"


@pytest.mark.parametrize("quality", ["1K", "2K", "4K"])
async def test_auto_without_visible_references_is_square(evolink: EvoLink, quality: str) -> None:
    assert output_sizes(evolink, await evolink.finished(size="auto", quality=quality)) == {TABLE["1:1"][quality]}
    assert output_sizes(
        evolink, await evolink.finished(quality=quality, image_urls=["https://cdn.example.com/a.png"])
    ) == {TABLE["1:1"][quality]}


@pytest.mark.parametrize(
    "reference, ratio",
    [
        ((300, 200), "3:2"),
        ((90, 160), "9:16"),
        ((210, 90), "21:9"),
        ((100, 100), "1:1"),
        ((500, 400), "5:4"),
        ((60, 900), "9:16"),
    ],
)
async def test_auto_follows_the_first_visible_reference(
    evolink: EvoLink, reference: tuple[int, int], ratio: str
) -> None:
    refs = ["https://cdn.example.com/unseen.png", data_uri(*reference), data_uri(64, 64)]
    task = await evolink.finished(size="auto", quality="1K", image_urls=refs)
    assert output_sizes(evolink, task) == {TABLE[ratio]["1K"]}


async def test_pixel_sizes_ignore_quality(evolink: EvoLink) -> None:
    task = await evolink.finished(size="1280x720", quality="4K")
    assert output_sizes(evolink, task) == {(1280, 720)}


async def test_downloaded_image_has_exactly_the_size(evolink: EvoLink) -> None:
    task = await evolink.finished(size="1000x1000")
    record = await evolink.record(task["results"][0])
    assert (record["width"], record["height"], record["format"]) == (1000, 1000, "jpeg")
