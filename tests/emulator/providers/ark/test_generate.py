"""Ark's generation route: what a client gets back for each documented field, and the evidence in the images."""

from __future__ import annotations

import asyncio
import base64
import re

import pytest

from emulator import read_metadata
from tests.support import data_uri, settle

from .conftest import MODEL, MODEL_45, ROUTE, Ark, ArkFactory, auth, body, error_of

REQUEST_ID = re.compile(r"Request ID: 02\d{13}[0-9a-f]{38}$")


async def test_one_image_by_default_at_the_documented_default_size(ark: Ark) -> None:
    reply = await ark.images(size=None)
    assert set(reply) == {"model", "created", "data", "usage"}
    [image] = reply["data"]
    assert set(image) == {"url", "size"} and image["size"] == "2048x2048"
    assert reply["model"] == MODEL and isinstance(reply["created"], int)
    assert reply["usage"] == {"generated_images": 1, "output_tokens": 16384, "total_tokens": 16384}
    record = await ark.record(image["url"])
    assert (record["provider"], record["model"], record["width"], record["height"]) == ("ark", MODEL, 2048, 2048)


async def test_tokens_are_pixels_over_256(ark: Ark) -> None:
    # The documented example: a 1760x2368 image is 16280 output tokens.
    reply = await ark.images(size="1760x2368")
    assert reply["data"][0]["size"] == "1760x2368"
    assert reply["usage"]["output_tokens"] == reply["usage"]["total_tokens"] == 16280


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        (MODEL, "1K", (1024, 1024)),
        (MODEL, "2K", (2048, 2048)),
        (MODEL, "4K", (4096, 4096)),
        (MODEL_45, "2K", (2048, 2048)),
        (MODEL_45, "4K", (4096, 4096)),
        ("doubao-seedream-4-5-251128", "2560x1440", (2560, 1440)),
        ("doubao-seedream-4-0-250828", "1280x720", (1280, 720)),
    ],
)
async def test_sizes(ark: Ark, model: str, size: str, expected: tuple[int, int]) -> None:
    reply = await ark.images(model=model, size=size)
    record = await ark.record(reply["data"][0]["url"])
    assert (record["width"], record["height"]) == expected and reply["model"] == model


async def test_a_preset_follows_the_shape_of_the_first_reference(ark: Ark) -> None:
    reply = await ark.images(size="2K", image=[data_uri(90, 160), data_uri(160, 90)])
    assert reply["data"][0]["size"] == "1440x2560"
    record = await ark.record(reply["data"][0]["url"])
    assert record["reference_count"] == 2


async def test_seedream_45_has_no_1k_preset(ark: Ark) -> None:
    error = await ark.refused(body(model=MODEL_45, size="1K"))
    assert (error["code"], error["param"], error["type"]) == ("InvalidParameter", "size", "BadRequest")
    assert "2K, 4K" in error["message"] and REQUEST_ID.search(error["message"])


async def test_b64_json_carries_the_image_itself(ark: Ark) -> None:
    reply = await ark.images(response_format="b64_json", seed=42)
    [image] = reply["data"]
    assert set(image) == {"b64_json", "size"}
    record = read_metadata(base64.b64decode(image["b64_json"]))
    assert (record["width"], record["height"], record["seed"]) == (1024, 1024, 42)


async def test_a_given_seed_is_the_first_images_seed(ark: Ark) -> None:
    reply = await ark.images(seed=7, sequential_image_generation="auto", prompt="a kite, generate 2 images")
    seeds = [(await ark.record(image["url"]))["seed"] for image in reply["data"]]
    assert seeds == [7, 8]


async def test_a_group_makes_what_the_prompt_asks_within_max_images(ark: Ark) -> None:
    options = {"max_images": 3}
    asked = await ark.images(
        prompt="a comic, generate 5 images",
        sequential_image_generation="auto",
        sequential_image_generation_options=options,
    )
    assert asked["usage"]["generated_images"] == len(asked["data"]) == 3
    none_asked = await ark.images(sequential_image_generation="auto", sequential_image_generation_options=options)
    assert len(none_asked["data"]) == 1
    disabled = await ark.images(prompt="generate 5 images", sequential_image_generation_options=options)
    assert len(disabled["data"]) == 1, "max_images only counts in a group"


async def test_references_and_images_never_exceed_15(make_ark: ArkFactory) -> None:
    ark = await make_ark(image_count="max")
    reply = await ark.images(image=[data_uri()] * 12, sequential_image_generation="auto")
    assert len(reply["data"]) == 3  # max_images defaults to 15; 12 references leave room for 3
    evidence = [await ark.record(image["url"]) for image in reply["data"]]
    assert [record["index"] for record in evidence] == [0, 1, 2]


async def test_null_fields_count_as_absent(ark: Ark) -> None:
    # The official clients send every parameter they were not given as null.
    reply = await ark.images(
        image=None,
        seed=None,
        size=None,
        stream=None,
        watermark=None,
        sequential_image_generation_options={"max_images": None},
    )
    assert reply["data"][0]["size"] == "2048x2048"


async def test_an_endpoint_id_runs_as_seedream_40_and_is_noted(ark: Ark) -> None:
    reply = await ark.images(model="ep-20250828123456-abcde")
    assert reply["model"] == MODEL
    [entry] = ark.entries(ROUTE)
    assert entry.warnings == [] and any("endpoint" in note for note in entry.notes)


async def test_watermark_and_prompt_options_are_accepted(ark: Ark) -> None:
    await ark.images(watermark=False, optimize_prompt_options={"mode": "fast"})


async def test_unknown_models_are_404(ark: Ark) -> None:
    error = await ark.refused(body(model="seedream-9"), 404)
    assert (error["code"], error["type"], error["param"]) == ("InvalidEndpointOrModel.NotFound", "NotFound", "model")
    assert error["message"].startswith("The model or endpoint seedream-9 does not exist")


async def test_a_missing_prompt_is_missing_parameter(ark: Ark) -> None:
    error = await ark.refused({"model": MODEL})
    assert (error["code"], error["param"]) == ("MissingParameter", "prompt")


@pytest.mark.parametrize("key", [None, ""])
async def test_a_missing_key_is_401(ark: Ark, key: str | None) -> None:
    response = await ark.post(auth(key), json=body())
    assert response.status_code == 401
    error = error_of(response)
    assert (error["code"], error["type"]) == ("AuthenticationError", "Unauthorized")


async def test_only_the_configured_keys_are_accepted(make_ark: ArkFactory) -> None:
    ark = await make_ark(api_keys=("right",))
    assert (await ark.post(auth("wrong"), json=body())).status_code == 401
    assert (await ark.post(auth("right"), json=body())).status_code == 200


async def test_served_at_the_root_for_a_single_provider(make_ark: ArkFactory) -> None:
    ark = await make_ark(provider="ark")
    assert (await ark.images())["data"]


async def test_unknown_paths_and_methods_are_ark_shaped(ark: Ark) -> None:
    missing = await ark.client.post("/ark/api/v3/chat/nothing", headers=auth(), json={})
    assert missing.status_code == 404 and error_of(missing)["code"] == "NotFound"
    wrong = await ark.client.get("/ark/api/v3/images/generations", headers=auth())
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "MethodNotAllowed"


async def test_the_journal_names_the_request(ark: Ark) -> None:
    await ark.images()
    [entry] = ark.entries(ROUTE)
    assert entry.status == 200 and entry.valid and re.fullmatch(r"02\d{13}[0-9a-f]{38}", entry.ids[0])


async def test_a_content_failure_of_one_image_is_a_400(ark: Ark) -> None:
    error = await ark.refused(body(prompt="a fox [[emulator:fail=content_policy]]"))
    assert (error["code"], error["type"]) == ("OutputImageSensitiveContentDetected", "BadRequest")


async def test_in_a_group_the_failed_image_is_reported_in_data(ark: Ark) -> None:
    reply = await ark.images(prompt="a fox [[emulator:fail=content_policy]]", sequential_image_generation="auto")
    assert reply["data"] == [
        {
            "error": {
                "code": "OutputImageSensitiveContentDetected",
                "message": "The request failed because the output image may contain sensitive information.",
            }
        }
    ]
    assert reply["usage"]["generated_images"] == 0


async def test_a_provider_error_is_an_internal_error(ark: Ark) -> None:
    rule = {"action": "fail", "surface": "ark", "times": 1}  # the default failure kind: provider_error
    assert (await ark.client.post("/_emulator/faults", json=rule)).status_code in (200, 201)
    error = await ark.refused(body(), 500)
    assert (error["code"], error["type"]) == ("InternalServiceError", "InternalServerError")
    assert REQUEST_ID.search(error["message"])


async def test_a_failure_kind_ark_has_no_code_for_is_its_own_code(ark: Ark) -> None:
    error = await ark.refused(body(prompt="[[emulator:fail=gpu_lost]] a fox"))
    assert (error["code"], error["type"]) == ("gpu_lost", "BadRequest")
    assert REQUEST_ID.search(error["message"])


async def test_fewer_images_than_asked(ark: Ark) -> None:
    reply = await ark.images(prompt="generate 3 images [[emulator:images=1]]", sequential_image_generation="auto")
    assert len(reply["data"]) == reply["usage"]["generated_images"] == 1


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (429, "RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"),
        (500, "InternalServiceError", "InternalServerError"),
        (503, "ServerOverloaded", "TooManyRequests"),
        (403, "AccessDenied", "Forbidden"),
        (418, "InvalidParameter", "BadRequest"),
    ],
)
async def test_injected_errors_take_ark_shapes(ark: Ark, status: int, code: str, kind: str) -> None:
    response = await ark.post(json=body(prompt=f"a fox [[emulator:error={status};retry-after=2s]]"))
    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["type"]) == (code, kind)
    assert response.headers["Retry-After"] == "2"


async def test_control_plane_faults_reach_the_route(ark: Ark) -> None:
    rule = {"action": "error", "status": 429, "times": 1, "surface": "ark", "route": ROUTE}
    assert (await ark.client.post("/_emulator/faults", json=rule)).status_code in (200, 201)
    assert (await ark.post(json=body())).status_code == 429
    assert (await ark.post(json=body())).status_code == 200


async def test_a_rate_limit_is_arks_429_with_retry_after(make_ark: ArkFactory) -> None:
    ark = await make_ark(limits={"ark": {"requests_per_minute": 1}})
    assert (await ark.post(json=body())).status_code == 200
    limited = await ark.post(json=body())
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    error = error_of(limited)
    assert (error["code"], error["type"]) == ("RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests")


async def test_a_loopback_reference_is_downloaded_and_warned_about(ark: Ark) -> None:
    url = ark.fixtures.url("ref.png", bytes.fromhex("00"))
    error = await ark.refused(body(image=url))
    assert error["param"] == "image", "the downloaded bytes are read and refused: not an image"
    url = ark.fixtures.url("ok.png", base64.b64decode(data_uri(90, 160).partition(",")[2]))
    reply = await ark.images(image=url, size="1K")
    assert reply["data"][0]["size"] == "720x1280"
    assert any("127.0.0.1" in warning or "loopback" in warning for warning in ark.entries(ROUTE)[-1].warnings)


async def test_an_emulator_bug_is_an_ark_500_and_is_journaled(ark: Ark, monkeypatch: pytest.MonkeyPatch) -> None:
    service = ark.emulator.app.state.emulator.surface("ark").service

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "_generate", broken)
    response = await ark.post(json=body())
    assert response.status_code == 500
    error = error_of(response)
    assert (error["code"], error["type"]) == ("InternalServiceError", "InternalServerError")
    [entry] = ark.entries(ROUTE)
    assert entry.notes == ["emulator error: RuntimeError: boom"] and entry.warnings == []


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"null", b"12", b'{"model": 1}'])
async def test_bodies_that_are_not_a_valid_object_are_400(ark: Ark, raw: bytes) -> None:
    response = await ark.post(content=raw)
    assert response.status_code == 400
    assert error_of(response)["code"] in ("InvalidParameter", "MissingParameter")


async def test_a_body_over_the_limit_is_refused(make_ark: ArkFactory) -> None:
    ark = await make_ark(max_body_mb=1)
    response = await ark.post(json=body(prompt="x" * 2**20))
    assert response.status_code == 400
    assert f"{2**20} bytes" in error_of(response)["message"]


async def test_a_full_emulator_is_arks_overloaded_429(make_ark: ArkFactory) -> None:
    ark = await make_ark(max_active_jobs=1)
    stalled = asyncio.create_task(ark.post(json=body(prompt="a [[emulator:stall=running]]")))
    await settle()
    refused = await ark.post(json=body())
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert error_of(refused)["code"] == "ServerOverloaded"
    stalled.cancel()


async def test_a_group_that_fails_part_way_reports_its_images_then_the_failed_one(ark: Ark) -> None:
    rule = {"action": "fail", "failure": "content_policy", "images": 2, "surface": "ark", "times": 1}
    assert (await ark.client.post("/_emulator/faults", json=rule)).status_code in (200, 201)
    reply = await ark.images(prompt="a kite, generate 4 images", sequential_image_generation="auto")
    assert [sorted(item) for item in reply["data"]] == [["size", "url"], ["size", "url"], ["error"]]
    assert reply["data"][2]["error"]["code"] == "OutputImageSensitiveContentDetected"
    assert reply["usage"]["generated_images"] == 2
