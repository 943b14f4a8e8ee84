import jsonschema
import pytest

from contracts import load
from contracts._loader import CLIP

CONTRACT = load("runware")


@pytest.mark.parametrize("name", CONTRACT.names())
def test_every_document_is_a_valid_draft_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(CONTRACT.schema(name))
    assert CONTRACT.schema(name)["$id"] == CONTRACT.uri(name)


def test_violations_follow_refs_to_their_annotation() -> None:
    task = {"taskType": "imageInference", "taskUUID": "nope", "model": "bytedance:5@0", "positivePrompt": "x"}
    [violation] = CONTRACT.validator("imageInference").violations(task)
    assert violation.path == "/taskUUID"
    assert violation.keyword == "pattern"
    assert violation.annotation["parameter"] == "taskUUID"


def test_required_violations_name_the_missing_property_and_its_annotation() -> None:
    [violation] = CONTRACT.validator("imageInference").violations(
        {"taskType": "imageInference", "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "model": "bytedance:5@0"}
    )
    assert (violation.keyword, violation.missing, violation.path) == ("required", "positivePrompt", "")
    assert violation.limits == {"minLength": 1, "maxLength": 2000}


def test_nested_array_items_report_their_index() -> None:
    violations = CONTRACT.validator("imageInference").violations(
        {
            "taskType": "imageInference",
            "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e",
            "model": "bytedance:5@0",
            "positivePrompt": "x",
            "inputs": {"referenceImages": ["ok", 7]},
        }
    )
    assert [v.path for v in violations] == ["/inputs/referenceImages/1"]
    assert violations[0].annotation["parameter"] == "referenceImages"


def test_violations_carry_what_the_validator_found_for_surfaces_that_word_them() -> None:
    violations = CONTRACT.validator("imageInference").violations(
        {
            "taskType": "imageInference",
            "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e",
            "model": "bytedance:5@0",
            "positivePrompt": 7,
            "numberResults": 0,
        }
    )
    found = {v.path: (v.keyword, dict(v.details)) for v in violations}
    assert found["/positivePrompt"] == ("type", {"types": ["string"]})
    assert found["/numberResults"] == ("minimum", {"limit": 1})


def test_every_violation_is_reported_not_only_the_first() -> None:
    violations = CONTRACT.validator("imageInference").violations(
        {"taskType": "imageInference", "taskUUID": "x", "model": "m", "positivePrompt": "", "numberResults": 0}
    )
    assert {v.path for v in violations} == {"/taskUUID", "/model", "/positivePrompt", "/numberResults"}


def test_defaults_are_read_from_the_schema() -> None:
    defaults = CONTRACT.defaults("imageInference")
    assert defaults == {
        "numberResults": 1,
        "outputType": "URL",
        "outputFormat": "JPG",
        "outputQuality": 95,
        "deliveryMethod": "sync",
        "includeCost": False,
    }


def test_unvalidatable_instances_are_violations_not_crashes() -> None:
    validator = CONTRACT.validator("imageInference")
    assert validator.is_valid({"seed": float("inf")}) is False
    assert validator.violations([float("nan")])


def _listed_whole(name: str, instance: object) -> list[tuple[str, str, str]]:
    validator = CONTRACT.validator(name)
    errors = validator._compiled.iter_errors(instance)
    return sorted((v.path, v.keyword, v.message) for v in map(validator._violation, errors))


@pytest.mark.parametrize("length", [CLIP + 1, 3 * CLIP])
def test_a_huge_string_is_reported_as_if_it_were_read_whole(length: int) -> None:
    """Strings past CLIP are listed clipped (a 60 MB prompt cost 70 ms of held GIL per error, copied into it)."""
    task = {
        "taskType": "imageInference",
        "taskUUID": "nope",
        "model": "bytedance:5@0",
        "positivePrompt": "y" * length,
        "width": "wide",
    }
    found = sorted((v.path, v.keyword, v.message) for v in CONTRACT.validator("imageInference").violations(task))
    assert found == _listed_whole("imageInference", task)
    assert ("/positivePrompt", "maxLength", "the value is longer than 2000 characters") in found


def test_an_error_only_a_clipped_tail_shows_is_still_found() -> None:
    task = {
        "taskType": "imageInference",
        "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e" + "x" * CLIP,  # its pattern breaks past the clip
        "model": "bytedance:5@0",
        "positivePrompt": "x",
    }
    found = sorted((v.path, v.keyword, v.message) for v in CONTRACT.validator("imageInference").violations(task))
    assert found == _listed_whole("imageInference", task) and found
