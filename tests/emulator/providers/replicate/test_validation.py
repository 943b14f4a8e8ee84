"""422 problem bodies worded like Replicate's validator, run-time-only limits, hostile bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import counts
from contracts.replicate import rules
from emulator import Settings, create_app
from tests.support import SyncClient, contract_errors, data_uri

from .conftest import AUTH, MODEL_PATH, Replicate, ReplicateFactory

INPUT = rules.CONTRACT.schema("input")["properties"]


async def invalid(replicate: Replicate, body: Any, path: str = MODEL_PATH) -> dict[str, Any]:
    response = await replicate.client.post(
        path, content=json.dumps(body), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert contract_errors("replicate", "problem", problem) == []
    assert problem["title"] == "Input validation failed" and problem["status"] == 422
    lines = "".join(
        f"- {f['field']}: {f['description']}\n" if f["field"] else f"- {f['description']}\n"
        for f in problem["invalid_fields"]
    )
    assert problem["detail"] == lines
    return problem


async def test_missing_prompt_is_required_at_field_input(replicate: Replicate) -> None:
    problem = await invalid(replicate, {"input": {"size": "2K"}})
    assert problem["invalid_fields"] == [{"type": "required", "field": "input", "description": "prompt is required"}]
    assert problem["detail"] == "- input: prompt is required\n"


async def test_enum_violations_list_the_allowed_values(replicate: Replicate) -> None:
    problem = await invalid(replicate, {"input": {"prompt": "x", "aspect_ratio": "5:4"}})
    allowed = ", ".join(json.dumps(v) for v in INPUT["aspect_ratio"]["enum"])
    assert problem["invalid_fields"] == [
        {
            "type": "enum",
            "field": "input.aspect_ratio",
            "description": f"aspect_ratio must be one of the following: {allowed}",
        }
    ]


@pytest.mark.parametrize(
    ("field", "value", "kind", "text"),
    [
        ("width", 1023, "number_gte", "Must be greater than or equal to 1024"),
        ("height", 4097, "number_lte", "Must be less than or equal to 4096"),
        ("max_images", 0, "number_gte", "Must be greater than or equal to 1"),
        ("max_images", 16, "number_lte", "Must be less than or equal to 15"),
    ],
)
async def test_numeric_limits_come_from_the_schema(
    replicate: Replicate, field: str, value: int, kind: str, text: str
) -> None:
    problem = await invalid(replicate, {"input": {"prompt": "x", field: value}})
    assert problem["invalid_fields"] == [{"type": kind, "field": f"input.{field}", "description": text}]
    limit = INPUT[field]["minimum" if kind == "number_gte" else "maximum"]
    assert str(limit) in text


@pytest.mark.parametrize(
    ("field", "value", "expected", "given"),
    [
        ("prompt", 5, "string", "integer"),
        ("enhance_prompt", "yes", "boolean", "string"),
        ("image_input", "data:image/png;base64,AAAA", "array", "string"),
        ("width", 2048.5, "integer", "number"),
        ("max_images", None, "integer", "null"),
    ],
)
async def test_wrong_types_are_invalid_type(
    replicate: Replicate, field: str, value: Any, expected: str, given: str
) -> None:
    problem = await invalid(replicate, {"input": {"prompt": "x", field: value}})
    assert problem["invalid_fields"][0] == {
        "type": "invalid_type",
        "field": f"input.{field}",
        "description": f"Invalid type. Expected: {expected}, given: {given}",
    }


async def test_image_inputs_must_be_uris(replicate: Replicate) -> None:
    problem = await invalid(replicate, {"input": {"prompt": "x", "image_input": ["not a uri"]}})
    assert problem["invalid_fields"] == [
        {"type": "format", "field": "input.image_input.0", "description": "Does not match format 'uri'"}
    ]


async def test_body_level_errors_have_an_empty_field(replicate: Replicate) -> None:
    problem = await invalid(replicate, {"model": "bytedance/seedream-4"}, "/v1/predictions")
    assert (
        problem["detail"] == "- version is required\n- input is required\n- Additional property model is not allowed\n"
    )
    assert [f["type"] for f in problem["invalid_fields"]] == ["required", "required", "additional_property_not_allowed"]
    assert {f["field"] for f in problem["invalid_fields"]} == {""}


async def test_body_must_be_an_object(replicate: Replicate) -> None:
    problem = await invalid(replicate, [1, 2])
    assert problem["invalid_fields"] == [
        {"type": "invalid_type", "field": "", "description": "Invalid type. Expected: object, given: array"}
    ]


async def test_webhook_events_filter_values_are_checked(replicate: Replicate) -> None:
    problem = await invalid(
        replicate, {"input": {"prompt": "x"}, "webhook": "https://example.com/h", "webhook_events_filter": ["done"]}
    )
    assert problem["invalid_fields"][0]["field"] == "webhook_events_filter.0"


async def test_unknown_input_keys_are_ignored_like_cog_does(replicate: Replicate) -> None:
    body = await replicate.run({"seed": 5, "num_outputs": 2, "size": "1K"})
    assert body["status"] == "succeeded" and len(body["output"]) == 1
    assert body["input"]["seed"] == 5


async def test_legacy_keys_are_accepted_with_a_journal_warning(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K"}, stream=True, webhook_completed="https://example.com/done")
    assert body["status"] == "succeeded"
    [entry] = replicate.entries()
    # webhook_completed is gone from the current schema, which forbids unknown keys: production may refuse it.
    assert [w for w in entry.warnings if "webhook_completed" in w] == entry.warnings != []
    # stream is still documented (deprecated): a remark, not leniency the harness counts against the client.
    assert any("stream" in note for note in entry.notes)


async def test_validation_errors_are_journaled_as_violations(replicate: Replicate) -> None:
    await invalid(replicate, {"input": {"prompt": "x", "size": "8K"}})
    [entry] = replicate.entries()
    assert not entry.valid and entry.status == 422
    assert entry.violations == [{"path": "/input/size", "message": entry.violations[0]["message"], "keyword": "enum"}]


@pytest.mark.parametrize("raw", [b"", b"{", b"{'input': 1}", b"NaN", b"\xff\xfe"])
async def test_malformed_json_is_a_400_problem(replicate: Replicate, raw: bytes) -> None:
    response = await replicate.client.post(
        MODEL_PATH, content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid JSON" and body["detail"].startswith("JSON parse error - ")


async def test_oversized_bodies_are_413(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(max_body_mb=1)
    response = await replicate.create({"image_input": [data_uri()] * 1, "padding": "x" * (2 * 2**20)})
    assert response.status_code == 413
    assert response.json()["title"] == "Request too large"


# --- limits checked only at run time --------------------------------------------------------------


async def test_more_than_ten_image_inputs_fail_at_run_time(replicate: Replicate) -> None:
    response = await replicate.create({"image_input": [data_uri()] * 11}, prefer="wait")
    assert response.status_code == 201, "the schema has no maxItems: Replicate accepts, then the model fails"
    body = response.json()
    assert body["status"] == "failed" and body["output"] is None
    assert body["error"] == "Too many input images: 11 were given, at most 10 are supported"
    assert body["logs"].endswith(f"Error: {body['error']}\n")
    assert contract_errors("replicate", "prediction", body) == []


async def test_inputs_plus_max_images_over_fifteen_fail_with_auto(replicate: Replicate) -> None:
    body = (
        await replicate.create(
            {"image_input": [data_uri()] * 6, "sequential_image_generation": "auto", "max_images": 10}, prefer="wait"
        )
    ).json()
    assert body["status"] == "failed"
    assert body["error"] == "Total images (input + generated) cannot exceed 15: 6 input image(s) + max_images 10 = 16"
    fine = (
        await replicate.create(
            {
                "prompt": counts.ask("a comic strip", 10),
                "image_input": [data_uri()] * 5,
                "sequential_image_generation": "auto",
                "max_images": 10,
                "size": "1K",
            },
            prefer="wait",
        )
    ).json()
    assert fine["status"] == "succeeded" and len(fine["output"]) == 10


async def test_max_images_is_ignored_without_auto(replicate: Replicate) -> None:
    body = (
        await replicate.create({"image_input": [data_uri()] * 10, "max_images": 15, "size": "1K"}, prefer="wait")
    ).json()
    assert body["status"] == "succeeded" and len(body["output"]) == 1


# --- property tests -------------------------------------------------------------------------------

RATIOS = INPUT["aspect_ratio"]["enum"]


def valid_inputs() -> st.SearchStrategy[dict[str, Any]]:
    optional = {
        "size": st.sampled_from(INPUT["size"]["enum"]),
        "aspect_ratio": st.sampled_from(RATIOS),
        "width": st.integers(INPUT["width"]["minimum"], INPUT["width"]["maximum"]),
        "height": st.integers(INPUT["height"]["minimum"], INPUT["height"]["maximum"]),
        "sequential_image_generation": st.sampled_from(INPUT["sequential_image_generation"]["enum"]),
        "max_images": st.integers(INPUT["max_images"]["minimum"], INPUT["max_images"]["maximum"]),
        "enhance_prompt": st.booleans(),
    }
    prompts = st.text(max_size=200) | st.builds(counts.ask, st.text(max_size=40), st.integers(1, 15))
    return st.fixed_dictionaries({"prompt": prompts}, optional=optional)


@pytest.fixture(scope="module")
def sync_client() -> Any:
    client = SyncClient(create_app(Settings(timing="instant", seed=3, provider="replicate")))
    yield client
    client.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(input=valid_inputs())
def test_every_valid_input_is_accepted_and_sized_by_the_rules(sync_client: Any, input: dict[str, Any]) -> None:
    response = sync_client.post(MODEL_PATH, json={"input": input}, headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    assert contract_errors("replicate", "prediction", body) == []
    assert body["input"] == input
    assert body["status"] == "starting"
    # Lists carry file URLs (nothing is rendered) and the logs, which state the size and count.
    [done] = [p for p in sync_client.get("/v1/predictions", headers=AUTH).json()["results"] if p["id"] == body["id"]]
    # `auto` lets the model decide: what the prompt asks for (1 when it names no number), within max_images.
    auto = input.get("sequential_image_generation") == "auto"
    count = counts.decide(input["prompt"], input.get("max_images", 1)) if auto else 1
    width, height = (
        (input.get("width", 2048), input.get("height", 2048))
        if input.get("size") == "custom"
        else rules.RULES["sizeTable"][input.get("size", "2K")][
            "1:1" if input.get("aspect_ratio", "match_input_image") == "match_input_image" else input["aspect_ratio"]
        ]
    )
    assert done["status"] == "succeeded"
    assert f"Generating {count} image(s) at {width}x{height} " in done["logs"]
    assert len(done["output"]) == count and all(url.startswith("http://testserver/files/tmp") for url in done["output"])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from([*INPUT, "unknown"]), value=JSON_VALUES)
def test_any_value_in_any_field_is_201_or_a_422_problem(sync_client: Any, field: str, value: Any) -> None:
    response = sync_client.post(MODEL_PATH, json={"input": {"prompt": "x", "size": "1K", field: value}}, headers=AUTH)
    assert response.status_code in (201, 422), response.text
    body = response.json()
    if response.status_code == 422:
        assert contract_errors("replicate", "problem", body) == []
        assert any(f["field"].startswith(f"input.{field}") or f["field"] == "input" for f in body["invalid_fields"])
    else:
        assert contract_errors("replicate", "prediction", body) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON_VALUES, path=st.sampled_from([MODEL_PATH, "/v1/predictions"]))
def test_arbitrary_bodies_never_cause_a_server_error(sync_client: Any, body: Any, path: str) -> None:
    response = sync_client.post(path, json=body, headers=AUTH)
    assert response.status_code in (201, 400, 422), response.text
    assert response.headers["content-type"] in ("application/json", "application/problem+json")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), prefer=st.text(max_size=12), cancel_after=st.text(max_size=8))
def test_arbitrary_bytes_and_headers_never_cause_a_server_error(
    sync_client: Any, raw: bytes, prefer: str, cancel_after: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    for name, value in (("Prefer", prefer), ("Cancel-After", cancel_after)):
        if value.isprintable() and value.isascii() and value.strip():
            headers[name] = value
    response = sync_client.post(MODEL_PATH, content=raw, headers=headers)
    assert response.status_code in (201, 400, 422), response.text
