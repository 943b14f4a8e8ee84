"""Models, versions (with openapi_schema from the contract), account, unknown routes and methods."""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator

from contracts.replicate import rules
from tests.support import contract_errors

from .conftest import AUTH, Replicate


async def test_model_object_has_the_latest_version_and_its_schema(replicate: Replicate) -> None:
    response = await replicate.get("models/bytedance/seedream-4")
    assert response.status_code == 200
    body = response.json()
    assert contract_errors("replicate", "model", body) == []
    assert (body["owner"], body["name"], body["visibility"]) == ("bytedance", "seedream-4", "public")
    version = body["latest_version"]
    assert version["id"] == rules.LATEST_VERSION["id"] and version["id"].startswith("cf7d43199143")
    schema = version["openapi_schema"]
    input_schema = schema["components"]["schemas"]["Input"]
    contract = rules.CONTRACT.schema("input")
    assert input_schema["properties"] == rules.published(contract)["properties"]
    assert input_schema["properties"]["image_input"]["items"] == {"type": "string", "format": "uri"}
    assert input_schema["required"] == ["prompt"]
    assert schema["components"]["schemas"]["Output"]["items"] == {"type": "string", "format": "uri"}
    assert "x-cog-array-type" not in schema["components"]["schemas"]["Output"], (
        "replicate.run returns a list, not an iterator"
    )


def test_the_published_input_schema_accepts_what_the_contract_accepts() -> None:
    published = rules.openapi_schema()["components"]["schemas"]["Input"]
    validator = Draft7Validator(published)
    assert validator.is_valid({"prompt": "x", "size": "4K", "aspect_ratio": "21:9", "max_images": 15})
    assert not validator.is_valid({"prompt": "x", "width": 5000})
    assert not validator.is_valid({"size": "2K"})


async def test_versions_list_and_get(replicate: Replicate) -> None:
    body = (await replicate.get("models/bytedance/seedream-4/versions")).json()
    assert contract_errors("replicate", "versionPage", body) == []
    assert [v["id"] for v in body["results"]] == [v["id"] for v in rules.VERSIONS]
    for version in rules.VERSIONS:
        got = await replicate.get(f"models/bytedance/seedream-4/versions/{version['id']}")
        assert got.status_code == 200
        assert contract_errors("replicate", "version", got.json()) == []
    assert (await replicate.get("models/bytedance/seedream-4/versions/abc123")).status_code == 404


@pytest.mark.parametrize(
    "path", ["models/bytedance/seedream-3", "models/stability-ai/sdxl", "models/bytedance/seedream-3/versions"]
)
async def test_other_models_are_404(replicate: Replicate, path: str) -> None:
    response = await replicate.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "The requested resource could not be found.", "status": 404}


async def test_account(replicate: Replicate) -> None:
    body = (await replicate.get("account")).json()
    assert contract_errors("replicate", "account", body) == []
    assert body["name"] and body["type"] == "user"


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/v1/predictions"), ("DELETE", "/v1/account"), ("POST", "/v1/models/bytedance/seedream-4")],
)
async def test_wrong_methods_are_405_problems(replicate: Replicate, method: str, path: str) -> None:
    response = await replicate.client.request(method, path, headers=AUTH)
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.', "status": 405}
    assert "allow" in response.headers


async def test_head_is_answered_like_get(replicate: Replicate) -> None:
    response = await replicate.client.head("/v1/account", headers=AUTH)
    assert response.status_code == 200
