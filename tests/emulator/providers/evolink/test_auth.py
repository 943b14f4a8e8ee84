import pytest

from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.evolink.helpers import body, create, error_of, query

UNAUTHORIZED = {"code": 401, "message": "Invalid or expired token", "type": "authentication_error"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
        {"Authorization": "Token abc"},
        {"Authorization": "abc"},
    ],
)
async def test_create_without_a_bearer_token_is_401(emulator: Emulator, headers: dict[str, str]) -> None:
    response = await emulator.client.post("/evolink/v1/images/generations", json=body(), headers=headers)
    assert response.status_code == 401
    assert error_of(response) == UNAUTHORIZED


async def test_any_non_empty_key_works_without_configured_keys(emulator: Emulator) -> None:
    assert (await create(emulator, body(), key="whatever")).status_code == 200


async def test_configured_keys_refuse_unknown_ones(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(api_keys=("good-1", "good-2"))
    assert (await create(emulator, body(), key="good-2")).status_code == 200
    refused = await create(emulator, body(), key="bad")
    assert refused.status_code == 401 and error_of(refused) == UNAUTHORIZED
    task = (await create(emulator, body(), key="good-1")).json()
    assert (await query(emulator, task["id"], key="good-2")).status_code == 200
    assert (await query(emulator, task["id"], key="bad")).status_code == 401


async def test_authentication_comes_before_validation(emulator: Emulator) -> None:
    response = await emulator.client.post("/evolink/v1/images/generations", content=b"{not json")
    assert response.status_code == 401


async def test_query_without_a_key_is_401_in_both_generations(make_emulator: EmulatorFactory) -> None:
    integer = await make_emulator()
    response = await query(integer, "task-unified-1-abcdefgh", key=None)
    assert (response.status_code, error_of(response)) == (401, UNAUTHORIZED)
    string = await make_emulator(evolink_error_codes="string")
    response = await query(string, "task-unified-1-abcdefgh", key=None)
    assert response.status_code == 401
    assert error_of(response) == {
        "code": "unauthorized",
        "message": "Authentication required",
        "type": "authentication_error",
    }
    response = await create(string, body(), key=None)
    assert error_of(response) == {
        "code": "unauthorized",
        "message": "Invalid or expired token",
        "type": "authentication_error",
    }


async def test_journal_masks_the_key(emulator: Emulator) -> None:
    await create(emulator, body(), key="sk-secret-value")
    [entry] = emulator.runtime.journal.entries(surface="evolink")
    assert entry.api_key == "sk-s…"
    assert entry.route == "POST /v1/images/generations"
