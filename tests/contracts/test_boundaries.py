"""Limits are walked from the schemas: each boundary's inside value meets the contract and its outside value breaks it."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from contracts import load
from contracts._loader import Contract
from contracts.boundaries import Boundary, Patch, example, patched, superseded, walk

ROOT = Path(__file__).resolve().parents[2] / "contracts"
PROVIDERS = sorted(path.parent.name for path in ROOT.glob("*/rules.json"))


def contract_of(tmp_path: Path, schema: dict[str, Any]) -> Contract:
    (tmp_path / "request.json").write_text(
        json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema})
    )
    return Contract("toy", tmp_path)


TOY = {
    "type": "object",
    "examples": [{"prompt": "a fox"}],
    "properties": {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 5},
        "n": {"type": "integer", "minimum": 1, "maximum": 4},
        "mode": {"enum": ["fast", "slow"]},
        "size": {"anyOf": [{"enum": ["auto"]}, {"type": "string", "pattern": "^[0-9]+x[0-9]+$"}]},
        "refs": {"type": "array", "maxItems": 2, "items": {"type": "string", "examples": ["https://a.example/r.png"]}},
        "width": {"type": "integer", "minimum": 1, "x-boundary": {"minimum": "the size table decides"}},
        "options": {"type": "object", "properties": {"steps": {"type": "number", "exclusiveMaximum": 2}}},
    },
}


def by_name(boundaries: list[Boundary]) -> dict[str, Boundary]:
    return {boundary.name: boundary for boundary in boundaries}


def outside(boundary: Boundary) -> Patch:
    """The first refused value of a limit that has one."""
    assert boundary.outside is not None
    return boundary.outside


def test_each_keyword_gives_the_last_value_inside_and_the_first_outside(tmp_path: Path) -> None:
    found = by_name(walk(contract_of(tmp_path, TOY), "request"))
    assert found["/prompt maxLength 5"].inside == {"/prompt": "xxxxx"}
    assert found["/prompt maxLength 5"].outside == {"/prompt": "xxxxxx"}
    assert found["/prompt minLength 1"].outside == {"/prompt": ""}
    assert (found["/n minimum 1"].inside, found["/n minimum 1"].outside) == ({"/n": 1}, {"/n": 0})
    assert (found["/n maximum 4"].inside, found["/n maximum 4"].outside) == ({"/n": 4}, {"/n": 5})
    assert found["/mode enum"].inside == {"/mode": "slow"} and outside(found["/mode enum"])["/mode"] not in (
        "fast",
        "slow",
    )
    assert found["/size enum"].inside == {"/size": "auto"}
    assert found["/refs maxItems 2"].outside == {"/refs": ["https://a.example/r.png"] * 3}
    assert found["/options/steps exclusiveMaximum 2"].inside["/options/steps"] < 2
    assert outside(found["/options/steps exclusiveMaximum 2"])["/options/steps"] >= 2


def test_x_boundary_hands_a_limit_to_the_rules(tmp_path: Path) -> None:
    contract = contract_of(tmp_path, TOY)
    assert "/width minimum 1" not in by_name(walk(contract, "request"))
    assert superseded(contract, "request") == {"/width minimum 1": "the size table decides"}


def test_patches_build_nested_objects_and_leave_the_base_alone() -> None:
    base = {"input": {"prompt": "a"}}
    assert patched(base, {"/input/max_images": 3, "/x~1y": 1}) == {"input": {"prompt": "a", "max_images": 3}, "x/y": 1}
    assert base == {"input": {"prompt": "a"}}


def rules_of(provider: str) -> Any:
    return importlib.import_module(f"contracts.{provider}.rules")


WITH_BOUNDARIES = [provider for provider in PROVIDERS if hasattr(rules_of(provider), "boundaries")]


@pytest.mark.parametrize("provider", WITH_BOUNDARIES)
def test_every_schema_limit_has_a_boundary_or_a_reason(provider: str) -> None:
    rules = rules_of(provider)
    contract = load(provider)
    names = {boundary.name for boundary in rules.boundaries()}
    walked = {boundary.name for boundary in walk(contract, rules.REQUEST_SCHEMA)}
    assert walked <= names
    assert all(reason for reason in superseded(contract, rules.REQUEST_SCHEMA).values())
    assert len(names) == len(rules.boundaries()), "boundary names are unique"


@pytest.mark.parametrize("provider", WITH_BOUNDARIES)
def test_the_example_request_meets_the_contract(provider: str) -> None:
    rules = rules_of(provider)
    contract = load(provider)
    assert contract.validator(rules.REQUEST_SCHEMA).violations(example(contract, rules.REQUEST_SCHEMA)) == []


@pytest.mark.parametrize("provider", ["evolink"])
def test_request_boundaries_hold_in_the_contract_functions(provider: str) -> None:
    """Limits checked on the request alone (not on reference files, which the emulator reads): inside passes."""
    rules = rules_of(provider)
    contract = load(provider)
    validator = contract.validator(rules.REQUEST_SCHEMA)
    base = example(contract, rules.REQUEST_SCHEMA)
    for boundary in rules.boundaries():
        inside = boundary.apply(base, "inside")
        assert validator.violations(inside) == [] and rules.check(inside, strict=True)[0] == [], boundary.name
        if boundary.outside is not None and "/image_urls/0" not in boundary.name:
            outside = boundary.apply(base, "outside")
            assert validator.violations(outside) or rules.check(outside, strict=True)[0], boundary.name
