import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import counts
from contracts.runware import rules
from tests.support import contract_errors

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


def test_references_come_from_one_place() -> None:
    assert rules.reference_images({"inputs": {"referenceImages": ["a", {"image": "b"}]}}) == ["a", "b"]
    assert rules.reference_images({"referenceImages": ["c"]}) == ["c"]
    assert rules.reference_images({}) == []


def test_references_in_both_places_are_one_violation_naming_both() -> None:
    task = {**TASK, "model": "bytedance:seedream@4.5", "resolution": "2K"}
    [violation] = rules.check({**task, "inputs": {"referenceImages": ["a"]}, "referenceImages": ["c"]})
    assert violation.keyword == "rule:referencesInTwoPlaces"
    assert violation.annotation["parameter"] == ["referenceImages", "inputs.referenceImages"]
    assert rules.check({**task, "referenceImages": ["c"]}) == []


def sequence_task(prompt: str, results: int | None = None, sequential: int | None = None, references: int = 0) -> dict:
    task: dict = {**TASK, "positivePrompt": prompt}
    if results is not None:
        task["numberResults"] = results
    if sequential is not None:
        task["providerSettings"] = {"bytedance": {"maxSequentialImages": sequential}}
    if references:
        task["inputs"] = {"referenceImages": ["x"] * references}
    return task


@pytest.mark.parametrize(
    "results, sequential, asked, mode, expected",
    [
        (None, None, 0, "prompt", 1),
        (3, None, 5, "prompt", 3),  # numberResults is exact: without sequential generation the prompt is moot
        (3, None, 5, "max", 3),
        (2, 4, 0, "prompt", 2),  # "the model may generate fewer": one per generation when the prompt asks none
        (2, 4, 3, "prompt", 6),
        (2, 4, 9, "prompt", 8),  # capped by maxSequentialImages
        (2, 4, 0, "max", 8),
        (1, 15, 15, "prompt", 15),
    ],
)
def test_image_count(results, sequential, asked, mode, expected) -> None:
    task = sequence_task(counts.ask("a fox", asked), results, sequential)
    assert rules.image_count(task, mode) == expected


@given(
    results=st.integers(1, 20),
    sequential=st.integers(1, 15),
    references=st.integers(0, 14),
    asked=st.integers(0, 20),
    mode=st.sampled_from(counts.MODES),
)
def test_every_generation_makes_what_counts_decide_within_the_budget(
    results, sequential, references, asked, mode
) -> None:
    task = sequence_task(counts.ask("a fox", asked), results, sequential, references)
    cap = max(1, min(sequential, rules.RULES["maxReferencesPlusSequential"] - references))
    assert rules.image_count(task, mode) == results * counts.decide(task["positivePrompt"], cap, mode)
    assert results <= rules.image_count(task, mode) <= results * sequential


def test_the_emulator_passes_the_prompt_the_model_reads() -> None:
    task = sequence_task("a fox [[emulator: note 9 images]]", 1, 4)
    assert rules.image_count(task, "prompt") == 4
    assert rules.image_count(task, "prompt", prompt="a fox") == 1


def test_seed_maximum_is_int64_and_validated_exactly() -> None:
    schema = rules.CONTRACT.schema("imageInference")["properties"]["seed"]
    assert schema["maximum"] == 2**63 - 1
    validator = rules.CONTRACT.validator("imageInference")
    base = {**TASK, "model": "bytedance:5@0", "width": 1024, "height": 1024}
    assert validator.is_valid({**base, "seed": 2**63 - 1})
    for seed in (2**63, 2**63 + 1, 9223372036854776000, 2**64, 10**30, float(2**63)):
        assert not validator.is_valid({**base, "seed": seed}), seed
        [violation] = validator.violations({**base, "seed": seed})
        assert (violation.path, violation.keyword, violation.limits["maximum"]) == ("/seed", "maximum", 2**63 - 1)
        assert contract_errors("runware", "imageInference", {**base, "seed": seed})  # the reference validator agrees


def test_leniency_names_what_the_model_pages_do_not_document() -> None:
    task = {**TASK, "model": "bytedance:5@0", "width": 1024, "height": 1024}
    assert rules.leniency(task) == ([], [])
    settings = {"bytedance": {"optimizePromptMode": "fast"}}
    [warning], [] = rules.leniency({**task, "providerSettings": settings})
    assert "providerSettings.bytedance.optimizePromptMode" in warning and "bytedance:seedream@4.5" in warning
    assert rules.leniency({**task, "model": "bytedance:seedream@4.5", "providerSettings": settings}) == ([], [])
    [warning], [] = rules.leniency({**task, "inputs": {"referenceImages": ["x"], "mask": "y"}})
    assert "'inputs.mask'" in warning
    [], [note] = rules.leniency({**task, "routing": {}})
    assert "'routing'" in note and "runware-sdk 1.8.0" in note


def test_target_texts_name_the_parameter_and_the_fact() -> None:
    warning = rules.target_warning("uploadEndpoint", "scheme", "http://x.example.com/put", "x.example.com")
    assert warning.startswith("uploadEndpoint http://x.example.com/put is not HTTPS") and "--strict" in warning
    violation = rules.target_violation("webhookURL", "internal", "https://10.1.2.3/h", "10.1.2.3", "bytedance:5@0")
    assert violation.annotation["code"] == "invalidWebhookURL" and violation.annotation["parameter"] == "webhookURL"
    assert "internal host 10.1.2.3" in violation.message
    assert (
        violation.annotation["documentation"]
        == "https://runware.ai/docs/models/bytedance-seedream-4-0#request-webhookurl"
    )


def test_violations_carry_runware_error_fields() -> None:
    [violation] = rules.check({**TASK, "model": "bytedance:5@0", "width": 100, "height": 100})
    assert violation.keyword == "rule:sizeNotInTable"
    assert violation.annotation["code"] == "invalidWidth"
    assert (
        violation.annotation["documentation"] == "https://runware.ai/docs/models/bytedance-seedream-4-0#request-width"
    )
