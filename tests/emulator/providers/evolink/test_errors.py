"""EvoLink's error body in both documented generations, for every way a request can go wrong."""

from __future__ import annotations

import pytest

from emulator import Settings, create_app
from emulator.settings import SettingsError
from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.evolink.helpers import auth, body, create, error_of, query


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
async def test_string_generation_uses_invalid_request(
    make_emulator: EmulatorFactory, payload: dict, param: str
) -> None:
    emulator = await make_emulator(evolink_error_codes="string")
    response = await create(emulator, payload)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["type"], error["param"]) == ("invalid_request", "invalid_request_error", param)
    assert error["message"].startswith("Invalid request parameters: ")


async def test_integer_generation_is_the_default(emulator: Emulator) -> None:
    error = error_of(await create(emulator, body(n=99)))
    assert error == {
        "code": 400,
        "message": "Invalid request parameters: 'n' must be an integer between 1 and 15.",
        "type": "invalid_request_error",
        "param": "n",
    }


async def test_image_too_large_in_the_string_generation(make_emulator: EmulatorFactory) -> None:
    import base64

    emulator = await make_emulator(evolink_error_codes="string")
    oversized = "data:image/png;base64," + base64.b64encode(b"\0" * (10 * 2**20 + 1)).decode()
    response = await create(emulator, body(image_urls=[oversized]))
    assert response.status_code == 413
    error = error_of(response)
    assert (error["code"], error["type"], error["param"]) == (
        "request_too_large",
        "request_too_large_error",
        "image_urls",
    )


@pytest.mark.parametrize("raw", [b"", b"{", b"nul", b'{"model": NaN}', b"\xff\xfe", b"[]", b'"text"', b"42"])
async def test_bodies_that_are_not_json_objects_are_400(emulator: Emulator, raw: bytes) -> None:
    response = await emulator.client.post("/evolink/v1/images/generations", content=raw, headers=auth())
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
async def test_unpaired_surrogate_escapes_are_400(emulator: Emulator, raw: bytes) -> None:
    response = await emulator.client.post("/evolink/v1/images/generations", content=raw, headers=auth())
    assert response.status_code == 400
    assert "surrogate" in error_of(response)["message"]


async def test_paired_surrogate_escapes_are_fine(emulator: Emulator) -> None:
    raw = rb'{"model": "doubao-seedream-4.0", "prompt": "a dragon \ud83d\udc09"}'
    assert (
        await emulator.client.post("/evolink/v1/images/generations", content=raw, headers=auth())
    ).status_code == 200


@pytest.mark.parametrize("url", ["https://[::1/x.png", "http://[nothex]/a.png"])
async def test_malformed_reference_urls_are_400(emulator: Emulator, url: str) -> None:
    error = error_of(await create(emulator, body(image_urls=[url])))
    assert error["param"] == "image_urls" and "not a well-formed URL" in error["message"]


async def test_deeply_nested_json_is_400(emulator: Emulator) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    response = await emulator.client.post("/evolink/v1/images/generations", content=raw, headers=auth())
    assert response.status_code == 400


async def test_body_over_the_limit_is_413(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(max_body_mb=1)
    response = await emulator.client.post(
        "/evolink/v1/images/generations", content=b"{" + b" " * 2**20 + b"}", headers=auth()
    )
    assert response.status_code == 413
    assert error_of(response)["type"] == "request_too_large_error"


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/evolink/v1/images/generations"),
        ("PUT", "/evolink/v1/images/generations"),
        ("POST", "/evolink/v1/tasks/task-unified-1-abcdefgh"),
        ("DELETE", "/evolink/v1/tasks/task-unified-1-abcdefgh"),
    ],
)
async def test_wrong_methods_are_405(emulator: Emulator, method: str, path: str) -> None:
    response = await emulator.client.request(method, path, headers=auth())
    assert response.status_code == 405
    assert error_of(response)["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "path", ["/evolink/v1/images", "/evolink/v1/tasks", "/evolink/v2/images/generations", "/evolink/"]
)
async def test_unknown_paths_are_evolink_shaped_404s(emulator: Emulator, path: str) -> None:
    response = await emulator.client.get(path, headers=auth())
    assert response.status_code == 404
    assert error_of(response)["type"] == "not_found_error"


async def test_an_emulator_bug_is_an_evolink_500_and_is_journaled(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    [surface] = [s for s in emulator.app.state.emulator.surfaces if s.name == "evolink"]
    monkeypatch.setattr(surface.service, "submit", broken)
    response = await emulator.client.post("/evolink/v1/images/generations", json=body(), headers=auth())
    assert response.status_code == 500
    assert error_of(response) == {
        "code": 500,
        "message": "Internal server error",
        "type": "internal_server_error",
        "fallback_suggestion": "try again later",
    }
    [entry] = emulator.runtime.journal.entries(surface="evolink")
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


async def test_query_errors_are_contract_shaped(emulator: Emulator) -> None:
    assert (await query(emulator, "nope")).status_code == 400


async def test_a_full_queue_is_evolinks_429(make_emulator) -> None:  # type: ignore[no-untyped-def]
    from emulator.core.clock import ManualClock

    emulator = await make_emulator(clock=ManualClock(), timing="realistic", max_active_jobs=1)
    headers = {"Authorization": "Bearer k"}
    body = {"model": "doubao-seedream-4.0", "prompt": "a lighthouse"}
    assert (await emulator.client.post("/evolink/v1/images/generations", json=body, headers=headers)).status_code == 200
    response = await emulator.client.post("/evolink/v1/images/generations", json=body, headers=headers)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == 429
    assert response.json()["error"]["type"] == "rate_limit_error"
