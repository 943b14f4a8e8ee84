"""Every documented Runware limit, probed at its boundaries with hypothesis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from tests.support import DROP, SyncClient, data_uri, inference

SEED_MAX = 2**63 - 1  # the page prints 2^63 as a double (9223372036854776000); int64 holds one less
SIZE_TABLE_40 = [
    (1024, 1024),
    (2048, 2048),
    (2304, 1728),
    (1728, 2304),
    (2560, 1440),
    (1440, 2560),
    (2496, 1664),
    (1664, 2496),
    (3024, 1296),
    (4096, 4096),
    (4608, 3456),
    (3456, 4608),
    (5120, 2880),
    (2880, 5120),
    (4992, 3328),
    (3328, 4992),
    (6048, 2592),
]
examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client() -> Iterator[SyncClient]:
    client = SyncClient(create_app(Settings(timing="instant", seed=3)))
    yield client
    client.close()


def send(client: SyncClient, *tasks: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/runware/v1", json=list(tasks), headers={"Authorization": "Bearer k"})
    assert response.status_code < 500
    return response.status_code, response.json()


def accepted(client: SyncClient, task: dict[str, Any]) -> bool:
    status, body = send(client, task)
    if status == 200:
        assert "errors" not in body
        return True
    assert status == 400
    [error] = body["errors"]
    assert error["taskType"] == "imageInference" and error["taskUUID"] == task["taskUUID"]
    return False


def first_error(client: SyncClient, task: dict[str, Any]) -> dict[str, Any]:
    status, body = send(client, task)
    assert status == 400, body
    return body["errors"][0]


def test_size_table_holds_seventeen_pairs() -> None:
    assert len(set(SIZE_TABLE_40)) == 17


@pytest.mark.parametrize(
    "name, low, high, code",
    [
        ("numberResults", 1, 20, "invalidNumberResults"),
        ("outputQuality", 20, 99, "invalidOutputQuality"),
        ("seed", 0, SEED_MAX, "invalidSeed"),
    ],
)
@examples
@given(offset=st.integers(-3, 3), side=st.sampled_from(["low", "high"]))
def test_integer_limits(client: SyncClient, name: str, low: int, high: int, code: str, offset: int, side: str) -> None:
    value = (low if side == "low" else high) + offset
    task = inference(width=1024, height=1024, **{name: value})
    if low <= value <= high:
        assert accepted(client, task)
    else:
        error = first_error(client, task)
        assert (error["code"], error["parameter"]) == (code, name)


@examples
@given(ttl=st.integers(-5, 200))
def test_ttl_is_at_least_sixty_seconds(client: SyncClient, ttl: int) -> None:
    task = inference(width=1024, height=1024, ttl=ttl)
    if ttl >= 60:
        assert accepted(client, task)
    else:
        assert first_error(client, task)["code"] == "invalidTtl"


@examples
@given(length=st.one_of(st.integers(0, 3), st.integers(1995, 2005)), char=st.sampled_from(["a", "é", "龍", "🐉"]))
def test_prompt_is_one_to_two_thousand_characters(client: SyncClient, length: int, char: str) -> None:
    task = inference(width=1024, height=1024, positivePrompt=char * length)
    if 1 <= length <= 2000:
        assert accepted(client, task)
    else:
        error = first_error(client, task)
        assert (error["code"], error["parameter"]) == ("invalidPositivePrompt", "positivePrompt")
        assert "2000" in error["message"]


@examples
@given(sequential=st.integers(-2, 18))
def test_max_sequential_images_is_one_to_fifteen(client: SyncClient, sequential: int) -> None:
    task = inference(width=1024, height=1024, providerSettings={"bytedance": {"maxSequentialImages": sequential}})
    if 1 <= sequential <= 15:
        assert accepted(client, task)
    else:
        assert first_error(client, task)["code"] == "invalidMaxSequentialImages"


@examples
@given(count=st.integers(1, 18), top_level=st.booleans())
def test_reference_images_are_at_most_fourteen_in_either_place(client: SyncClient, count: int, top_level: bool) -> None:
    task = inference(width=1024, height=1024)
    references = [data_uri(8, 8)] * count
    if top_level:
        task["referenceImages"] = references
    else:
        task["inputs"] = {"referenceImages": references}
    if count <= 14:
        assert accepted(client, task)
    else:
        error = first_error(client, task)
        assert (error["code"], error["parameter"]) == ("invalidReferenceImages", "referenceImages")
        assert "A maximum of 14 reference images" in error["message"]


@examples
@given(nested=st.integers(1, 14), top=st.integers(1, 14))
def test_reference_images_in_both_places_are_refused_naming_both(client: SyncClient, nested: int, top: int) -> None:
    task = inference(width=1024, height=1024, referenceImages=[data_uri(8, 8)] * top)
    task["inputs"] = {"referenceImages": [data_uri(8, 8)] * nested}
    error = first_error(client, task)
    assert error["code"] == "invalidReferenceImages"
    assert error["parameter"] == ["referenceImages", "inputs.referenceImages"]
    assert "'referenceImages'" in error["message"] and "'inputs.referenceImages'" in error["message"]
    assert error["taskUUID"] == task["taskUUID"] and error["taskType"] == "imageInference"


@examples
@given(references=st.integers(0, 14), sequential=st.integers(1, 15))
def test_references_plus_sequential_images_are_at_most_fifteen(
    client: SyncClient, references: int, sequential: int
) -> None:
    task = inference(width=1024, height=1024, providerSettings={"bytedance": {"maxSequentialImages": sequential}})
    if references:
        task["inputs"] = {"referenceImages": [f"https://example.com/{i}.jpg" for i in range(references)]}
    if references + sequential <= 15:
        assert accepted(client, task)
    else:
        error = first_error(client, task)
        assert (error["code"], error["parameter"]) == ("invalidReferenceImages", "referenceImages")
        assert "cannot exceed 15" in error["message"]


def test_empty_reference_list_is_refused(client: SyncClient) -> None:
    assert first_error(client, inference(inputs={"referenceImages": []}))["code"] == "invalidReferenceImages"


@pytest.mark.parametrize("size", SIZE_TABLE_40)
def test_every_seedream_40_table_size_is_accepted(client: SyncClient, size: tuple[int, int]) -> None:
    width, height = size
    assert accepted(client, inference(width=width, height=height))


@examples
@given(width=st.integers(1, 7000), height=st.integers(1, 7000))
def test_seedream_40_refuses_sizes_outside_its_table(client: SyncClient, width: int, height: int) -> None:
    task = inference(width=width, height=height)
    if (width, height) in SIZE_TABLE_40:
        assert accepted(client, task)
    else:
        error = first_error(client, task)
        assert error["code"] == "invalidWidth"
        assert error["parameter"] == ["width", "height"]
        assert "2304x1728" in error["message"]


def test_lenient_sizes_accept_the_docs_1280x720_example() -> None:
    lenient = SyncClient(create_app(Settings(timing="instant", seed=3, runware_strict_sizes=False)))
    assert accepted(lenient, inference(width=1280, height=720))
    assert not accepted(lenient, inference(width=512, height=512))
    assert not accepted(lenient, inference(width=4096, height=200))
    lenient.close()


@examples
@given(
    width=st.one_of(st.integers(1, 20000), st.sampled_from([1920, 2560, 4096, 16384, 480, 7680])),
    height=st.one_of(st.integers(1, 20000), st.sampled_from([1440, 1920, 4096, 1024, 7680, 230])),
)
def test_seedream_45_pixel_and_aspect_bounds(client: SyncClient, width: int, height: int) -> None:
    task = inference(model="bytedance:seedream@4.5", width=width, height=height)
    within = (
        3_686_400 <= width * height <= 16_777_216 and 1 / 16 <= width / height <= 16 and max(width, height) <= 16383
    )
    if within:
        assert accepted(client, task)
    else:
        error = first_error(client, task)
        assert error["code"] == "invalidWidth"
        assert error["documentation"].startswith("https://runware.ai/docs/models/bytedance-seedream-4-5")


@pytest.mark.parametrize("width, height", [(16384, 1024), (1024, 16384)])
def test_seedream_45_sides_are_at_most_16383(client: SyncClient, width: int, height: int) -> None:
    error = first_error(client, inference(model="bytedance:seedream@4.5", width=width, height=height))
    assert error["code"] == "invalidWidth" and "16383" in error["message"]


@pytest.mark.parametrize("width, height", [(2560, 1440), (4096, 4096), (16383, 1024)])
def test_seedream_45_bounds_are_inclusive(client: SyncClient, width: int, height: int) -> None:
    assert accepted(client, inference(model="bytedance:seedream@4.5", width=width, height=height))


def test_seedream_45_pixel_bound_message_is_the_live_text(client: SyncClient) -> None:
    error = first_error(client, inference(model="bytedance:seedream@4.5", width=2048, height=1024))
    assert (
        error["message"] == "Invalid image pixels. Total pixels (width x height) must be between 3686400 and 16777216."
    )


@pytest.mark.parametrize("model", ["bytedance:5@0", "bytedance:seedream@4.5"])
@pytest.mark.parametrize("present, missing_code", [("width", "missingHeight"), ("height", "missingWidth")])
def test_width_and_height_come_together(client: SyncClient, model: str, present: str, missing_code: str) -> None:
    task = inference(model=model, **{("height" if present == "width" else "width"): DROP})
    assert first_error(client, task)["code"] == missing_code


@pytest.mark.parametrize("model", ["bytedance:5@0", "bytedance:seedream@4.5"])
def test_no_dimensions_and_no_references_is_missing_dimension_parameters(client: SyncClient, model: str) -> None:
    error = first_error(client, inference(model=model, width=DROP, height=DROP))
    assert error["code"] == "missingDimensionParameters"
    assert (
        error["message"]
        == "Missing dimension parameters. Either width and height, or referenceImages must be provided."
    )
    assert error["parameter"] == ["width", "height", "referenceImages"]
    assert error["type"] == "integer|array"


def test_resolution_is_a_seedream_45_parameter(client: SyncClient) -> None:
    error = first_error(client, inference(width=DROP, height=DROP, resolution="2K"))
    assert (error["code"], error["parameter"]) == ("unsupportedResolution", "resolution")
    bad = first_error(client, inference(model="bytedance:seedream@4.5", width=DROP, height=DROP, resolution="8K"))
    assert bad["code"] == "invalidResolution"


@pytest.mark.parametrize("value", ["abc", str(uuid.uuid1()), "D0E27E41-AF62-13BE-926C-8211A3A92ADB", 12, None, ""])
def test_task_uuid_must_be_a_uuid_v4(client: SyncClient, value: Any) -> None:
    error = first_error(client, inference(taskUUID=value))
    assert (error["code"], error["parameter"]) == ("invalidTaskUUID", "taskUUID")


@pytest.mark.parametrize(
    "missing, code",
    [("taskUUID", "missingTaskUUID"), ("model", "missingModel"), ("positivePrompt", "missingPositivePrompt")],
)
def test_required_parameters(client: SyncClient, missing: str, code: str) -> None:
    status, body = send(client, inference(**{missing: DROP}))
    assert status == 400
    assert body["errors"][0]["code"] == code


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("model", "runware:100@1", "invalidModel"),
        ("outputType", "url", "invalidOutputType"),
        ("outputFormat", "JPEG", "invalidOutputFormat"),
        ("deliveryMethod", "stream", "invalidDeliveryMethod"),
        ("webhookURL", "ftp://example.com/hook", "invalidWebhookURL"),
        ("uploadEndpoint", "not a url", "invalidUploadEndpoint"),
        ("includeCost", "yes", "invalidIncludeCost"),
        ("safety", {"checkContent": "yes"}, "invalidSafety"),
        ("safety", {"mode": "paranoid"}, "invalidSafety"),
        ("inputs", [], "invalidInputs"),
        ("providerSettings", {"bytedance": {"optimizePromptMode": "slow"}}, "invalidOptimizePromptMode"),
        ("width", 2048.5, "invalidWidth"),
        ("width", "2048", "invalidWidth"),
        ("numberResults", True, "invalidNumberResults"),
    ],
)
def test_wrong_values_name_their_parameter(client: SyncClient, field: str, value: Any, code: str) -> None:
    error = first_error(client, inference(**{field: value}))
    assert error["code"] == code
    assert error["message"]


def test_integral_floats_count_as_integers(client: SyncClient) -> None:
    assert accepted(client, inference(width=2048.0, height=2048.0, numberResults=2.0))


@examples
@given(
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=5),
        st.lists(st.integers(), max_size=2),
    )
)
def test_wrong_types_for_any_parameter_are_400(client: SyncClient, value: Any) -> None:
    for field in ("positivePrompt", "width", "seed", "numberResults", "outputQuality", "ttl", "outputType", "inputs"):
        task = inference(**{field: value})
        status, body = send(client, task)
        assert status in (200, 400)
        if status == 400:
            assert body["errors"][0]["code"].startswith(("invalid", "missing", "unsupported"))


def test_data_uri_reference_that_is_not_an_image_is_invalid_reference_images(client: SyncClient) -> None:
    error = first_error(client, inference(inputs={"referenceImages": ["data:image/png;base64,aGVsbG8="]}))
    assert error["code"] == "invalidReferenceImages"
    assert error["message"].startswith(
        "Invalid value for 'referenceImages' parameter. Reference images must be an array"
    )


def test_gif_reference_is_refused(client: SyncClient) -> None:
    error = first_error(client, inference(inputs={"referenceImages": [data_uri(fmt="GIF")]}))
    assert error["code"] == "invalidReferenceImages"
    assert "GIF" in error["message"]
