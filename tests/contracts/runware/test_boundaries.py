"""Runware's limits, walked from its contract: each boundary's inside meets the schema and the cross-field rules
with no leniency, and its outside breaks exactly the limit it names."""

from __future__ import annotations

import math
from typing import Any

from contracts.boundaries import example, superseded
from contracts.runware import rules

VALIDATOR = rules.CONTRACT.validator(rules.REQUEST_SCHEMA)
BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
BOUNDARIES = {boundary.name: boundary for boundary in rules.boundaries()}


def problems(task: dict[str, Any]) -> list[str]:
    found = VALIDATOR.violations(task)
    if found:
        return [f"{v.path} {v.keyword}" for v in found]
    return [v.keyword for v in rules.check(task)]


def test_every_inside_is_served_without_leniency_and_every_outside_is_refused() -> None:
    for name, boundary in BOUNDARIES.items():
        inside = boundary.apply(BASE, "inside")
        assert problems(inside) == [], name
        assert rules.leniency(inside) == ([], []), name
        assert boundary.refused_by == "request", name  # Runware reads references when it takes the task
        assert boundary.outside is not None and problems(boundary.apply(BASE, "outside")), name


def test_the_outside_of_a_cross_field_limit_passes_the_schema() -> None:
    """A cross-field boundary tests its own rule, not a schema limit next to it."""
    for name, boundary in BOUNDARIES.items():
        if len(name.split()) > 3:
            assert boundary.outside is not None
            outside = boundary.apply(BASE, "outside")
            assert VALIDATOR.violations(outside) == [], name
            assert rules.check(outside), name


def test_the_example_is_the_smallest_40_task() -> None:
    assert BASE["model"] == "bytedance:5@0"
    assert (BASE["width"], BASE["height"]) == rules.smallest_size("bytedance:5@0") == (1024, 1024)
    assert "referenceImages" not in BASE and "inputs" not in BASE


def test_the_size_boundaries_sit_on_the_documented_bounds() -> None:
    model = rules.model_rules("bytedance:seedream@4.5")
    inside = {
        " ".join(name.split()[2:4]): (b.inside["/width"], b.inside["/height"])
        for name, b in BOUNDARIES.items()
        if name.startswith("/width bytedance:seedream@4.5")
    }
    assert inside == {
        "pixels minimum": (1920, 1920),
        "pixels maximum": (4096, 4096),
        "aspect maximum": (7680, 480),
        "aspect minimum": (480, 7680),
        "side maximum": (16383, 1024),
    }
    assert model["minPixels"] == 1920 * 1920 and model["maxPixels"] == 4096 * 4096
    assert model["maxAspectRatio"] == 7680 / 480 and model["maxPixels"] >= 16384 * 1024
    table = {name.split()[-1] for name in BOUNDARIES if name.startswith("/width bytedance:5@0 table")}
    assert table == {"1024x1024", "4096x4096", "3024x1296", "1440x2560"}
    assert all(math.prod(size) >= 1024 * 1024 for size in rules.table_sizes())


def test_model_bound_values_are_moved_to_a_model_that_serves_them() -> None:
    resolution = BOUNDARIES["/resolution enum"]
    assert resolution.inside == {
        "/model": "bytedance:seedream@4.5",
        "/width": 4096,
        "/height": 4096,
        "/resolution": "4K",
    }
    assert rules.output_size(resolution.apply(BASE, "inside"), None) == rules.output_size({"resolution": "4K"}, None)
    assert resolution.outside is not None and resolution.outside["/model"] == "bytedance:seedream@4.5"
    assert BOUNDARIES["/model enum"].inside["/model"] == "bytedance:seedream@4.5"
    mode = BOUNDARIES["/providerSettings/bytedance/optimizePromptMode enum"]
    assert mode.inside["/model"] == "bytedance:seedream@4.5"


def test_references_and_sequences_share_one_budget() -> None:
    boundary = BOUNDARIES["/providerSettings/bytedance/maxSequentialImages references+sequential maximum 15"]
    for side, total in (("inside", 15), ("outside", 16)):
        task = boundary.apply(BASE, side)
        assert len(rules.reference_images(task)) + (rules.max_sequential_images(task) or 0) == total
    assert rules.image_count(boundary.apply(BASE, "inside")) == 14  # the prompt asks for the whole sequence
    [violation] = rules.check(boundary.apply(BASE, "outside"))
    assert violation.keyword == "rule:referencesPlusSequential"
    [violation] = rules.check(BOUNDARIES["/referenceImages places maximum 1"].apply(BASE, "outside"))
    assert violation.keyword == "rule:referencesInTwoPlaces"


def test_only_width_and_height_minimums_are_handed_to_the_rules() -> None:
    assert set(superseded(rules.CONTRACT, rules.REQUEST_SCHEMA)) == {"/width minimum 1", "/height minimum 1"}


def test_reference_examples_are_data_uris() -> None:
    """Runware documents data URIs; a made-up public URL would be taken on trust, with a journal warning."""
    references = BOUNDARIES["/inputs/referenceImages maxItems 14"].inside["/inputs/referenceImages"]
    assert len(references) == 14 and all(value.startswith("data:image/png;base64,") for value in references)
