"""EvoLink's error body in both documented generations, for every way a request can go wrong."""

from __future__ import annotations

import base64

import pytest

from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from emulator.settings import SettingsError

from .conftest import EvoLink, EvoLinkFactory, auth, body, error_of


@pytest.mark.parametrize(
    "payload, param",
    [
        (body(n=0), "n"),
        (body(prompt="x" * 2001), "prompt"),
        (body(size="7:5"), "size"),
        (body(size="100x100"), "size"),
        (body(quality="8K"), "quality"),
    ],
)
async def test_string_generation_uses_invalid_request(make_evolink: EvoLinkFactory, payload: dict, param: str) -> None:
    evolink = await make_evolink(evolink_error_codes="string")
    response = await evolink.create(payload)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["type"], error["param"]) == ("invalid_request", "invalid_request_error", param)
    assert error["message"].startswith("Invalid request parameters: ")


async def test_integer_generation_is_the_default(evolink: EvoLink) -> None:
    error = error_of(await evolink.create(body(n=99)))
    assert error == {
        "code": 400,
        "message": "Invalid request parameters: 'n' must be an integer between 1 and 15.",
        "type": "invalid_request_error",
        "param": "n",
    }


async def test_image_too_large_in_the_string_generation(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(evolink_error_codes="string")
    oversized = "data:image/png;base64," + base64.b64encode(b"\0" * (10 * 2**20 + 1)).decode()
    response = await evolink.create(body(image_urls=[oversized]))
    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["type"], error["param"]) == (
        "request_too_large",
        "request_too_large_error",
        "image_urls",
    )


@pytest.mark.parametrize("raw", [b"", b"{", b"nul", b'{"model": NaN}', b"\xff\xfe", b"[]", b'"text"', b"42"])
async def test_bodies_that_are_not_json_objects_are_400(evolink: EvoLink, raw: bytes) -> None:
    response = await evolink.post(content=raw)
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("Invalid request parameters: ")


@pytest.mark.parametrize(
    "raw",
    [
        rb'{"model": "doubao-seedream-4.0", "prompt": "\ud800 lonely half"}',
        rb'{"model": "doubao-seedream-4.0", "prompt": "ok", "callback_url": "https://h\udc00.example/x"}',
        rb'{"model": "doubao-seedream-4.0", "prompt": "ok", "image_urls": ["data:image/png;base64,\ud800"]}',
        rb'{"model": "doubao-seedream-4.0", "prompt": "ok", "\udfff": 1}',
    ],
)
async def test_unpaired_surrogate_escapes_are_400(evolink: EvoLink, raw: bytes) -> None:
    response = await evolink.post(content=raw)
    assert response.status_code == 400
    assert "surrogate" in error_of(response)["message"]


async def test_paired_surrogate_escapes_are_fine(evolink: EvoLink) -> None:
    raw = rb'{"model": "doubao-seedream-4.0", "prompt": "a dragon \ud83d\udc09"}'
    assert (await evolink.post(content=raw)).status_code == 200


@pytest.mark.parametrize("url", ["https://[::1/x.png", "http://[nothex]/a.png"])
async def test_malformed_reference_urls_are_400(evolink: EvoLink, url: str) -> None:
    error = error_of(await evolink.create(body(image_urls=[url])))
    assert error["param"] == "image_urls" and "not a well-formed URL" in error["message"]


async def test_deeply_nested_json_is_400(evolink: EvoLink) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    response = await evolink.post(content=raw)
    assert response.status_code == 400


async def test_body_over_the_limit_is_413(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(max_body_mb=1)
    response = await evolink.post(content=b"{" + b" " * 2**20 + b"}")
    assert response.status_code == 413
    assert error_of(response)["type"] == "request_too_large_error"


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/v1/images/generations"),
        ("PUT", "/v1/images/generations"),
        ("POST", "/v1/tasks/task-unified-1-abcdefgh"),
        ("DELETE", "/v1/tasks/task-unified-1-abcdefgh"),
    ],
)
async def test_wrong_methods_are_405(evolink: EvoLink, method: str, path: str) -> None:
    response = await evolink.client.request(method, evolink.path(path), headers=auth())
    assert response.status_code == 405
    assert error_of(response)["type"] == "invalid_request_error"


@pytest.mark.parametrize("path", ["/v1/images", "/v1/tasks", "/v2/images/generations", "/"])
async def test_unknown_paths_are_evolink_shaped_404s(evolink: EvoLink, path: str) -> None:
    response = await evolink.client.get(evolink.path(path), headers=auth())
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"


async def test_an_emulator_bug_is_an_evolink_500_and_is_journaled(
    evolink: EvoLink, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(evolink.service, "submit", broken)
    response = await evolink.post(json=body())
    assert response.status_code == 500
    assert error_of(response) == {
        "code": 500,
        "message": "Internal server error",
        "type": "internal_server_error",
        "fallback_suggestion": "try again later",
    }
    [entry] = evolink.entries()
    assert entry.notes == ["emulator error: RuntimeError: boom"] and entry.warnings == []


@pytest.mark.parametrize(
    "settings",
    [
        {"evolink_error_codes": "numeric"},
        {"image_count": "all"},
        {"evolink_result_ttl": 0},
        {"evolink_result_ttl": -5.0},
    ],
)
def test_invalid_settings_are_refused(settings: dict) -> None:
    with pytest.raises(SettingsError):
        create_app(Settings(**settings))


def test_settings_come_from_the_environment() -> None:
    settings = Settings.load(
        environ={
            "SEEDREAM_EMULATOR_EVOLINK_ERROR_CODES": "string",
            "SEEDREAM_EMULATOR_EVOLINK_RESULT_TTL": "3600",
            "SEEDREAM_EMULATOR_IMAGE_COUNT": "max",
        }
    )
    assert (settings.evolink_error_codes, settings.evolink_result_ttl, settings.image_count) == (
        "string",
        3600.0,
        "max",
    )
    assert Settings().evolink_result_ttl is None and Settings().evolink_error_codes == "integer"


async def test_query_errors_are_contract_shaped(evolink: EvoLink) -> None:
    assert (await evolink.query("nope")).status_code == 400


async def test_a_full_queue_is_evolinks_429(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(clock=ManualClock(), timing="realistic", max_active_jobs=1)
    payload = body(prompt="a lighthouse")
    assert (await evolink.post(json=payload)).status_code == 200
    response = await evolink.post(json=payload)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == 429
    assert response.json()["error"]["type"] == "rate_limit_error"
