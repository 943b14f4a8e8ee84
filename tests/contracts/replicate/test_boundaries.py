"""Replicate's limits, walked from the prediction request schema plus the run-time rules: inside holds, outside breaks
the contract exactly the way the boundary says (a 422 for `request`, a failing prediction for `task`)."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import Violation
from contracts.boundaries import example, walk
from contracts.fixtures import fixture_size
from contracts.replicate import rules

BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
BOUNDARIES = {boundary.name: boundary for boundary in rules.boundaries()}


def refusals(body: dict[str, Any]) -> tuple[list[Violation], str | None]:
    """What the create answers (422 fields) and, when it is taken, why the prediction fails."""
    found = rules.invalid_fields(rules.REQUEST_SCHEMA, body)
    return found, None if found else rules.run_failure(body["input"])


@pytest.mark.parametrize("name", BOUNDARIES)
def test_inside_is_served_and_outside_is_refused_as_the_boundary_says(name: str) -> None:
    boundary = BOUNDARIES[name]
    assert refusals(boundary.apply(BASE, "inside")) == ([], None)
    assert boundary.outside is not None
    found, failure = refusals(boundary.apply(BASE, "outside"))
    if boundary.refused_by == "request":
        assert found and failure is None
    else:
        assert found == [] and failure is not None


def test_the_prediction_request_is_walked_with_input_pointers() -> None:
    walked = {boundary.name for boundary in walk(rules.CONTRACT, rules.REQUEST_SCHEMA)}
    fields = rules.INPUT["properties"]
    width, images = fields["width"]["maximum"], fields["max_images"]["maximum"]
    assert {"/input/size enum", f"/input/width maximum {width}", f"/input/max_images maximum {images}"} <= walked
    assert walked <= BOUNDARIES.keys()
    assert "/webhook_events_filter/0 enum" in BOUNDARIES


def test_inside_patches_reach_what_they_test() -> None:
    """width/height only count with a custom size, max_images only with `auto`: the inside cases set those."""
    for side, index in (("width", 0), ("height", 1)):
        for keyword in ("minimum", "maximum"):
            bound = rules.INPUT["properties"][side][keyword]
            body = BOUNDARIES[f"/input/{side} {keyword} {bound}"].apply(BASE, "inside")
            assert rules.output_size(body["input"], None)[index] == bound
    most = rules.INPUT["properties"]["max_images"]["maximum"]
    body = BOUNDARIES[f"/input/max_images maximum {most}"].apply(BASE, "inside")
    assert rules.image_count(body["input"]) == most


def test_run_time_limits_come_from_the_rules() -> None:
    most, total = rules.RULES["maxImageInputs"], rules.RULES["maxTotalImages"]
    inputs = BOUNDARIES[f"/input/image_input maxItems {most}"]
    assert len(inputs.inside["/input/image_input"]) == most
    assert inputs.outside is not None and len(inputs.outside["/input/image_input"]) == most + 1
    combined = BOUNDARIES[f"/input/max_images total maximum {total}"]
    for side, expected in (("inside", total), ("outside", total + 1)):
        input_ = combined.apply(BASE, side)["input"]
        assert len(rules.image_inputs(input_)) + input_["max_images"] == expected
    tasks = {name for name, boundary in BOUNDARIES.items() if boundary.refused_by == "task"}
    assert tasks == {inputs.name, combined.name}


def test_references_are_fixtures_the_emulator_serves() -> None:
    """Replicate's model reads the emulator's fixtures like its own files: no journal warning, a known size."""
    for boundary in BOUNDARIES.values():
        for patch in (boundary.inside, boundary.outside or {}):
            for url in patch.get("/input/image_input", []):
                assert fixture_size(url) is not None, boundary.name


def test_limit_annotations_stay_out_of_the_published_schema() -> None:
    image_input = rules.openapi_schema()["components"]["schemas"]["Input"]["properties"]["image_input"]
    assert "examples" not in image_input["items"]
    assert rules.INPUT["properties"]["image_input"]["items"]["examples"], "the contract keeps its example"
