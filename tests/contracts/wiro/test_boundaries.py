"""Wiro's boundaries hold in the contract itself: inside meets the schema and the cross-field rules, outside breaks
exactly one of them."""

from __future__ import annotations

import pytest

from contracts import load
from contracts.boundaries import Boundary, example
from contracts.wiro import rules

CONTRACT = load("wiro")
VALIDATOR = CONTRACT.validator(rules.REQUEST_SCHEMA)
BASE = example(CONTRACT, rules.REQUEST_SCHEMA)
BOUNDARIES = rules.boundaries()


def problems(body: dict) -> list:
    return VALIDATOR.violations(body) or rules.check(body)


@pytest.mark.parametrize("boundary", BOUNDARIES, ids=[boundary.name for boundary in BOUNDARIES])
def test_inside_meets_the_contract_and_outside_breaks_it(boundary: Boundary) -> None:
    assert problems(boundary.apply(BASE, "inside")) == []
    if boundary.outside is not None:
        assert problems(boundary.apply(BASE, "outside")) != []


def test_references_plus_images_is_told_apart_by_the_cross_field_rule_alone() -> None:
    limit = rules.RULES["maxReferencesPlusImages"]
    (boundary,) = [b for b in BOUNDARIES if b.name == f"/maxImages plus references maximum {limit}"]
    inside, outside = boundary.apply(BASE, "inside"), boundary.apply(BASE, "outside")
    assert len(inside["inputImage"]) + inside["maxImages"] == limit
    assert VALIDATOR.violations(outside) == [] and [v.keyword for v in rules.check(outside)] == [
        "rule:maxReferencesPlusImages"
    ]


def test_a_whole_float_is_a_count_and_a_fraction_is_not() -> None:
    (boundary,) = [b for b in BOUNDARIES if b.keyword == "multipleOf"]
    inside, outside = boundary.inside["/maxImages"], boundary.outside and boundary.outside["/maxImages"]
    assert isinstance(inside, float) and inside.is_integer()
    assert isinstance(outside, float) and not outside.is_integer()
    assert rules.MIN_IMAGES <= outside <= rules.MAX_IMAGES, "only multipleOf refuses it"


def test_the_reference_example_is_a_url_the_emulator_reads_as_its_own_fixture() -> None:
    reference = rules.RUN["properties"]["inputImage"]["items"]["examples"][0]
    assert VALIDATOR.violations({**BASE, "inputImage": [reference]}) == []
    assert "/files/fixture-" in reference
