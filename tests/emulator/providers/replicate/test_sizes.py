"""Output pixel sizes (size x aspect_ratio table), match_input_image, image counts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import counts
from contracts.replicate import rules
from tests.support import data_uri

from .conftest import Replicate, ReplicateFactory, metadata

TABLE = rules.RULES["sizeTable"]


@pytest.mark.parametrize(("tier", "ratio"), [(tier, ratio) for tier in ("1K", "2K") for ratio in TABLE[tier]])
async def test_size_and_aspect_ratio_pick_the_table_entry(replicate: Replicate, tier: str, ratio: str) -> None:
    body = await replicate.run({"size": tier, "aspect_ratio": ratio})
    record = metadata(body["output"][0])
    assert [record["width"], record["height"]] == TABLE[tier][ratio]
    assert record["format"] == "jpeg" and record["model"] == "bytedance/seedream-4"


def test_the_4k_tier_doubles_the_2k_tier() -> None:
    for ratio, (width, height) in TABLE["2K"].items():
        assert TABLE["4K"][ratio] == [2 * width, 2 * height]
        assert width * height * 4 <= 4096 * 4096, "within the upstream pixel ceiling"


async def test_4k_renders_at_the_table_size(replicate: Replicate) -> None:
    body = await replicate.run({"size": "4K", "aspect_ratio": "21:9"})
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == (6048, 2592)


async def test_defaults_are_2k_and_match_input_image_falls_back_to_square(replicate: Replicate) -> None:
    body = await replicate.run()
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == (2048, 2048)
    assert "(2K, 1:1, no input image)" in body["logs"]


async def test_custom_uses_width_and_height_and_ignores_aspect_ratio(replicate: Replicate) -> None:
    body = await replicate.run({"size": "custom", "width": 1500, "height": 1024, "aspect_ratio": "9:16"})
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == (1500, 1024)
    default = metadata((await replicate.run({"size": "custom"}))["output"][0])
    assert (default["width"], default["height"]) == (2048, 2048)


async def test_width_and_height_are_ignored_without_custom(replicate: Replicate) -> None:
    record = metadata(
        (await replicate.run({"size": "1K", "aspect_ratio": "3:2", "width": 4096, "height": 1024}))["output"][0]
    )
    assert (record["width"], record["height"]) == (1248, 832)


@pytest.mark.parametrize(
    ("input_size", "tier", "expected"),
    [
        ((1600, 900), "2K", (2560, 1440)),
        ((900, 1600), "1K", (736, 1312)),
        ((1000, 800), "2K", (2304, 1728)),
        ((64, 48), "1K", (1152, 864)),
        ((3000, 1000), "2K", (3024, 1296)),
        ((100, 1000), "2K", (1440, 2560)),
        ((50, 50), "4K", (4096, 4096)),
    ],
)
async def test_match_input_image_takes_the_nearest_ratio_of_the_first_input(
    replicate: Replicate, input_size: tuple[int, int], tier: str, expected: tuple[int, int]
) -> None:
    first = data_uri(*input_size)
    body = await replicate.run({"size": tier, "image_input": [first, data_uri(10, 90)]})
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == expected
    assert record["reference_count"] == 2


async def test_explicit_aspect_ratio_wins_over_the_input_image(replicate: Replicate) -> None:
    record = metadata(
        (await replicate.run({"size": "1K", "aspect_ratio": "1:1", "image_input": [data_uri(1600, 900)]}))["output"][0]
    )
    assert (record["width"], record["height"]) == (1024, 1024)


AUTO = {"size": "1K", "sequential_image_generation": "auto"}


async def test_auto_sequential_makes_what_the_prompt_asks_for_within_max_images(replicate: Replicate) -> None:
    body = await replicate.run({**AUTO, "prompt": counts.ask("a storyboard of a fox", 3), "max_images": 4})
    records = [metadata(item) for item in body["output"]]
    assert [r["index"] for r in records] == [0, 1, 2], "the model decides: 3 of at most 4"
    assert len({r["seed"] for r in records}) == 3
    assert "metrics" in body and "image_count" not in body["metrics"]


async def test_auto_sequential_without_a_count_in_the_prompt_makes_one_image(replicate: Replicate) -> None:
    body = await replicate.run({**AUTO, "prompt": "a fox in the snow", "max_images": 4})
    assert len(body["output"]) == 1


@pytest.mark.parametrize(
    ("prompt", "max_images", "expected"),
    [
        ("generate 6 images of a lighthouse", 4, 4),
        ("a set of four posters", 15, 4),
        ("生成3张海报", 15, 3),
        ("四张图片，风格统一", 2, 2),
        ("two different pictures of a cat", 15, 2),
    ],
)
async def test_the_prompt_count_is_capped_by_max_images(
    replicate: Replicate, prompt: str, max_images: int, expected: int
) -> None:
    body = await replicate.run({**AUTO, "prompt": prompt, "max_images": max_images})
    assert len(body["output"]) == expected


async def test_max_mode_always_makes_max_images(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(image_count="max")
    assert len((await replicate.run({**AUTO, "prompt": "a fox", "max_images": 4}))["output"]) == 4
    replicate.runtime.image_count = "prompt"  # the policy can change while the emulator runs
    assert len((await replicate.run({**AUTO, "prompt": "a fox", "max_images": 4}))["output"]) == 1


async def test_image_inputs_leave_room_for_at_most_fifteen_images(replicate: Replicate) -> None:
    inputs = [data_uri()] * 5
    body = await replicate.run(
        {**AUTO, "prompt": counts.ask("variations", 12), "max_images": 10, "image_input": inputs}
    )
    assert len(body["output"]) == 10


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asked=st.integers(1, 15), max_images=st.integers(1, 15), inputs=st.integers(0, 3))
async def test_counts_follow_the_prompt_for_any_count_and_cap(
    make_replicate: ReplicateFactory, asked: int, max_images: int, inputs: int
) -> None:
    replicate = await make_replicate()
    input_ = {**AUTO, "prompt": counts.ask("a comic", asked), "max_images": max_images}
    input_["image_input"] = [data_uri(16, 16)] * inputs
    body = await replicate.run(input_)
    if inputs + max_images > 15:
        assert body["status"] == "failed"
    else:
        assert len(body["output"]) == min(asked, max_images)


async def test_disabled_sequential_returns_one_image(replicate: Replicate) -> None:
    body = await replicate.run(
        {"size": "1K", "sequential_image_generation": "disabled", "max_images": 4, "prompt": counts.ask("fox", 4)}
    )
    assert len(body["output"]) == 1


async def test_prompt_is_evidence_in_the_metadata(replicate: Replicate) -> None:
    import hashlib

    prompt = "ein Fuchs im Schnee, 雪の中の狐"
    record = metadata((await replicate.run({"prompt": prompt, "size": "1K"}))["output"][0])
    assert record["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()
