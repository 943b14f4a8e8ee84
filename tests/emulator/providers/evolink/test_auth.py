import pytest

from .conftest import EvoLink, EvoLinkFactory, body, error_of

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
async def test_create_without_a_bearer_token_is_401(evolink: EvoLink, headers: dict[str, str]) -> None:
    response = await evolink.post(headers, json=body())
    assert response.status_code == 401
    assert error_of(response) == UNAUTHORIZED


async def test_any_non_empty_key_works_without_configured_keys(evolink: EvoLink) -> None:
    assert (await evolink.create(body(), key="whatever")).status_code == 200


async def test_configured_keys_refuse_unknown_ones(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(api_keys=("good-1", "good-2"))
    assert (await evolink.create(body(), key="good-2")).status_code == 200
    refused = await evolink.create(body(), key="bad")
    assert refused.status_code == 401 and error_of(refused) == UNAUTHORIZED
    task = (await evolink.create(body(), key="good-1")).json()
    assert (await evolink.query(task["id"], key="good-2")).status_code == 200
    assert (await evolink.query(task["id"], key="bad")).status_code == 401


async def test_authentication_comes_before_validation(evolink: EvoLink) -> None:
    response = await evolink.post({}, content=b"{not json")
    assert response.status_code == 401


async def test_query_without_a_key_is_401_in_both_generations(make_evolink: EvoLinkFactory) -> None:
    integer = await make_evolink()
    response = await integer.query("task-unified-1-abcdefgh", key=None)
    assert (response.status_code, error_of(response)) == (401, UNAUTHORIZED)
    string = await make_evolink(evolink_error_codes="string")
    response = await string.query("task-unified-1-abcdefgh", key=None)
    assert response.status_code == 401
    assert error_of(response) == {
        "code": "unauthorized",
        "message": "Authentication required",
        "type": "authentication_error",
    }
    response = await string.create(body(), key=None)
    assert error_of(response) == {
        "code": "unauthorized",
        "message": "Invalid or expired token",
        "type": "authentication_error",
    }


async def test_journal_masks_the_key(evolink: EvoLink) -> None:
    await evolink.create(body(), key="sk-secret-value")
    [entry] = evolink.entries()
    assert entry.api_key == "sk-s…"
    assert entry.route == "POST /v1/images/generations"
