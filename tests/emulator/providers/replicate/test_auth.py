"""Authorization: Bearer and the legacy Token scheme; 401 problem+json otherwise."""

from __future__ import annotations

import pytest

from tests.support import contract_errors

from .conftest import MODEL_PATH, Replicate, ReplicateFactory

UNAUTHENTICATED = {"title": "Unauthenticated", "detail": "You did not pass a valid authentication token", "status": 401}
ROUTES = [
    ("POST", MODEL_PATH),
    ("POST", "/v1/predictions"),
    ("GET", "/v1/predictions"),
    ("GET", "/v1/predictions/abc"),
    ("POST", "/v1/predictions/abc/cancel"),
    ("GET", "/v1/models/bytedance/seedream-4"),
    ("GET", "/v1/files"),
    ("POST", "/v1/files"),
    ("GET", "/v1/account"),
    ("GET", "/v1/webhooks/default/secret"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "r8_token"])
async def test_missing_or_malformed_credentials_are_401(
    replicate: Replicate, method: str, path: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await replicate.client.request(method, path, headers=headers, json={"input": {"prompt": "x"}})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == UNAUTHENTICATED
    assert contract_errors("replicate", "problem", response.json()) == []


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token", "token"])
async def test_bearer_and_legacy_token_are_accepted(replicate: Replicate, scheme: str) -> None:
    response = await replicate.client.get("/v1/account", headers={"Authorization": f"{scheme} r8_anything"})
    assert response.status_code == 200


async def test_api_keys_restrict_the_accepted_tokens(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(api_keys=("r8_good",))
    assert (await replicate.client.get("/v1/account", headers={"Authorization": "Bearer r8_good"})).status_code == 200
    assert (await replicate.client.get("/v1/account", headers={"Authorization": "Token r8_good"})).status_code == 200
    response = await replicate.client.get("/v1/account", headers={"Authorization": "Bearer r8_bad"})
    assert response.status_code == 401 and response.json() == UNAUTHENTICATED


async def test_the_web_page_and_file_downloads_need_no_token(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(replicate_file_output="url")
    body = await replicate.run({"size": "1K"})
    page = await replicate.client.get(f"/p/{body['id']}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert body["output"][0] in page.text and "succeeded" in page.text
    assert (await replicate.client.get(body["output"][0])).status_code == 200
    assert (await replicate.client.get(body["output"][0], headers={"Authorization": "Bearer r8_x"})).status_code == 200
    assert (await replicate.client.get("/p/unknown")).status_code == 404
