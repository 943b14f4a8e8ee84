import pytest

from contracts.runware import rules

TASK = {"taskType": "imageInference", "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "positivePrompt": "x"}


def test_the_40_table_has_seventeen_documented_pairs() -> None:
    sizes = rules.table_sizes()
    assert len(sizes) == 17
    assert (2304, 1728) in sizes and (6048, 2592) in sizes and (1280, 720) not in sizes


def test_prices_per_model() -> None:
    assert rules.price("bytedance:5@0") == 0.03
    assert rules.price("bytedance:seedream@4.5") == 0.04


@pytest.mark.parametrize(
    "reference, tier, expected",
    [
        (None, "2K", (2048, 2048)),
        ((1920, 1080), "2K", (2560, 1440)),
        ((1080, 1920), "4K", (2880, 5120)),
        ((3000, 1000), "2K", (3024, 1296)),
        ((1000, 1000), "4K", (4096, 4096)),
        ((1200, 900), "2K", (2304, 1728)),
    ],
)
def test_presets_follow_the_nearest_table_aspect(reference, tier, expected) -> None:
    assert rules.output_size({"resolution": tier}, reference) == expected


def test_explicit_size_is_kept() -> None:
    assert rules.output_size({"width": 3840, "height": 2160, "resolution": "4K"}, (1, 1)) == (3840, 2160)


def test_references_are_merged_in_documented_order() -> None:
    task = {"inputs": {"referenceImages": ["a", {"image": "b"}]}, "referenceImages": ["c"]}
    assert rules.reference_images(task) == ["a", "b", "c"]


@pytest.mark.parametrize("results, sequential, expected", [(None, None, 1), (3, None, 3), (2, 4, 8)])
def test_image_count(results, sequential, expected) -> None:
    task = {}
    if results is not None:
        task["numberResults"] = results
    if sequential is not None:
        task["providerSettings"] = {"bytedance": {"maxSequentialImages": sequential}}
    assert rules.image_count(task) == expected


def test_violations_carry_runware_error_fields() -> None:
    [violation] = rules.check({**TASK, "model": "bytedance:5@0", "width": 100, "height": 100})
    assert violation.keyword == "rule:sizeNotInTable"
    assert violation.annotation["code"] == "invalidWidth"
    assert violation.annotation["documentation"] == "https://runware.ai/docs/models/bytedance-seedream-4-0#request-width"
