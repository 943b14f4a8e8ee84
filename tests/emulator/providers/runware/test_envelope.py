"""The request and reply envelope: arrays, mixed results, malformed and hostile bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from tests.support import SyncClient, contract_errors, inference, task_uuid

from .conftest import Runware, RunwareFactory

fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
field_values = st.one_of(
    json_values, st.sampled_from(["bytedance:5@0", "bytedance:seedream@4.5", 2048, 1024, "2K", "async"])
)
task_like = st.fixed_dictionaries(
    {
        "taskType": st.sampled_from(
            ["imageInference", "getResponse", "imageUpload", "mediaStorage", "ping", "authentication", "nope"]
        )
    },
    optional={
        "taskUUID": st.one_of(st.just(None), st.uuids(version=4).map(str), st.text(max_size=8)),
        "model": field_values,
        "positivePrompt": st.one_of(st.text(max_size=30), json_values),
        "width": field_values,
        "height": field_values,
        "resolution": field_values,
        "numberResults": field_values,
        "outputType": st.sampled_from(["URL", "dataURI", "base64Data", "jpg"]),
        "deliveryMethod": field_values,
        "inputs": json_values,
        "referenceImages": json_values,
        "providerSettings": json_values,
        "image": json_values,
        "seed": field_values,
    },
)


@pytest.fixture(scope="module")
def client() -> Iterator[SyncClient]:
    client = SyncClient(create_app(Settings(timing="instant", seed=5)))
    yield client
    client.close()


def check_reply(response: Any) -> dict[str, Any]:
    assert response.status_code < 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert contract_errors("runware", "response", body) == []
    if response.status_code != 200:
        assert "errors" in body
    return body


@fuzz
@given(body=json_values)
def test_any_json_body_gets_a_runware_shaped_reply(client: SyncClient, body: Any) -> None:
    check_reply(client.post("/runware/v1", json=body, headers={"Authorization": "Bearer k"}))


@fuzz
@given(raw=st.binary(max_size=200))
def test_any_bytes_get_a_runware_shaped_reply(client: SyncClient, raw: bytes) -> None:
    check_reply(client.post("/runware/v1", content=raw, headers={"Authorization": "Bearer k"}))


@fuzz
@given(tasks=st.lists(task_like, min_size=1, max_size=3))
def test_task_shaped_garbage_never_breaks_the_server(client: SyncClient, tasks: list[dict[str, Any]]) -> None:
    body = check_reply(client.post("/runware/v1", json=tasks, headers={"Authorization": "Bearer k"}))
    for error in body.get("errors", []):
        assert error["code"] and error["message"]
        assert "taskType" in error


async def test_full_success_has_no_errors_key(runware: Runware) -> None:
    body = (await runware.create(inference(), inference())).json()
    assert set(body) == {"data"}
    assert len(body["data"]) == 2


async def test_mixed_array_reports_successes_and_errors_with_200(runware: Runware) -> None:
    good, bad = inference(), inference(positivePrompt="")
    response = await runware.create(good, bad)
    assert response.status_code == 200
    body = response.json()
    assert [item["taskUUID"] for item in body["data"]] == [good["taskUUID"]]
    [error] = body["errors"]
    assert {"code", "message", "taskType", "taskUUID", "parameter", "type", "documentation"} <= set(error)
    assert error["taskUUID"] == bad["taskUUID"]


async def test_all_failed_array_takes_the_first_error_status(runware: Runware) -> None:
    response = await runware.create(inference(numberResults=99), {"taskType": "getResponse", "taskUUID": task_uuid()})
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["invalidNumberResults", "taskFailedOrNotFound"]


@pytest.mark.parametrize(
    "raw, code",
    [
        (b"", "invalidJSON"),
        (b"[{", "invalidJSON"),
        (b"{}", "invalidRequestBody"),
        (b"[]", "invalidRequestBody"),
        (b'"text"', "invalidRequestBody"),
        (b"null", "invalidRequestBody"),
    ],
)
async def test_malformed_bodies_are_400(runware: Runware, raw: bytes, code: str) -> None:
    response = await runware.client.post("/runware/v1", content=raw, headers={"Authorization": "Bearer k"})
    assert response.status_code == 400
    assert response.json() == {"errors": [{"code": code, "message": response.json()["errors"][0]["message"]}]}


@pytest.mark.parametrize("item", [42, "imageInference", None, [], {"taskUUID": "x"}, {"taskType": "videoInference"}])
async def test_unusable_array_items_are_per_task_errors(runware: Runware, item: Any) -> None:
    good = inference()
    body = (await runware.create(good, item)).json()
    assert [i["taskUUID"] for i in body["data"]] == [good["taskUUID"]]
    [error] = body["errors"]
    assert error["code"] in {"invalidTaskType", "missingTaskType", "unsupportedTaskType"}


async def test_unsupported_task_type_lists_the_supported_ones(runware: Runware) -> None:
    [error] = (await runware.create({"taskType": "videoInference", "taskUUID": task_uuid()})).json()["errors"]
    assert error["code"] == "unsupportedTaskType"
    assert error["taskType"] == "videoInference"
    assert "imageInference" in error["message"]


async def test_oversized_body_is_413(make_runware: RunwareFactory) -> None:
    runware = await make_runware(max_body_mb=1)
    big = json.dumps([inference(positivePrompt="x" * (2 * 2**20))]).encode()
    response = await runware.client.post("/runware/v1", content=big, headers={"Authorization": "Bearer k"})
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "invalidRequestBody"


async def test_ping_over_rest_is_answered(runware: Runware) -> None:
    body = (await runware.create({"taskType": "ping", "ping": True})).json()
    assert body == {"data": [{"taskType": "ping", "pong": True}]}


async def test_wrong_method_and_unknown_paths_get_runware_errors(runware: Runware) -> None:
    wrong = await runware.client.get("/runware/v1")
    assert wrong.status_code == 405
    assert wrong.json()["errors"][0]["code"] == "methodNotAllowed"
    missing = await runware.client.post("/runware/v2/tasks", json=[])
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "notFound"


async def test_journal_records_violations_with_paths(runware: Runware) -> None:
    await runware.create(inference(), inference(positivePrompt="", numberResults=0))
    [entry] = runware.entries()
    assert entry.status == 200 and entry.route == "POST /v1" and not entry.valid
    assert {v["path"] for v in entry.violations} == {"/1/positivePrompt", "/1/numberResults"}
    assert entry.api_key == "test…"


@pytest.mark.parametrize(
    "raw", [b'[{"taskType":"imageInference","width":Infinity}]', b'[{"taskType":"imageInference","seed":NaN}]']
)
async def test_non_standard_numbers_are_refused(runware: Runware, raw: bytes) -> None:
    response = await runware.client.post("/runware/v1", content=raw, headers={"Authorization": "Bearer k"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalidJSON"


async def test_an_emulator_bug_still_answers_in_runware_shape(
    runware: Runware, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.providers.runware.models.results import Results

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Results, "submit", broken)
    response = await runware.create(inference())
    assert response.status_code == 500
    assert response.json()["errors"][0]["code"] == "internalServerError"
    [entry] = runware.entries()
    assert entry.notes == ["emulator error: RuntimeError: boom"] and entry.warnings == []


@pytest.mark.parametrize(
    "raw",
    [
        b'[{"taskType": ["imageInference"], "taskUUID": "x"}]',
        b'[{"taskType": {"a": 1}}]',
        b'[{"taskType": "imageInference", "positivePrompt": "\\ud800"}]',
        b'[{"taskType": "imageUpload", "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "image": "http://[oops/x.png"}]',
        b'[{"taskType": "mediaStorage", "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "operation": "upload", "media": "https://[::1"}]',
        (
            b'[{"taskType": "imageInference", "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "model": "bytedance:5@0",'
            b' "positivePrompt": "x", "width": 2048, "height": 2048, "inputs": {"referenceImages": ["http://[oops/x.png"]}}]'
        ),
        (
            b'[{"taskType": "imageInference", "taskUUID": "0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "model": "bytedance:seedream@4.5",'
            b' "positivePrompt": "x", "width": 16384, "height": 1024, "outputFormat": "WEBP", "outputType": "base64Data"}]'
        ),
    ],
)
async def test_hostile_values_get_a_4xx(runware: Runware, raw: bytes) -> None:
    response = await runware.client.post("/runware/v1", content=raw, headers={"Authorization": "Bearer k"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["errors"][0]["code"].startswith(("invalid", "unsupported", "missing"))


async def test_arrays_hold_at_most_a_hundred_tasks(runware: Runware) -> None:
    assert (await runware.create(*[{"taskType": "ping", "ping": True}] * 100)).status_code == 200
    response = await runware.create(*[{"taskType": "ping", "ping": True}] * 101)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalidRequestBody" and "100" in error["message"]


async def test_journal_keeps_a_bounded_number_of_violations(runware: Runware) -> None:
    await runware.create(*[{"taskType": "imageInference"}] * 100)
    [entry] = runware.entries()
    assert len(entry.violations) == 50
    assert any("more than 50 violations" in note for note in entry.notes)


async def test_errors_only_setting_drops_successes_from_mixed_replies(make_runware: RunwareFactory) -> None:
    runware = await make_runware(runware_partial_replies="errors-only")
    response = await runware.create(inference(), inference(positivePrompt=""))
    assert response.status_code == 400
    assert set(response.json()) == {"errors"}
