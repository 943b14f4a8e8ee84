"""The OpenAPI 3.1 documents generated from the contracts: valid, self-contained, and loadable by Schemathesis."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from openapi_spec_validator import validate
from schemathesis.core.result import Ok

from contracts import load, openapi
from contracts.surfaces import SURFACES

PROVIDERS = openapi.providers()


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [node["$ref"]] if isinstance(node.get("$ref"), str) else [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


def resolve(document: dict[str, Any], reference: str) -> Any:
    node: Any = document
    for part in reference.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def test_every_provider_has_a_document() -> None:
    assert list(SURFACES) == PROVIDERS


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_document_is_valid_openapi_3_1(provider: str) -> None:
    document = openapi.document(provider, f"http://127.0.0.1:8000/{provider}")
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": f"http://127.0.0.1:8000/{provider}"}]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_reference_resolves_inside_the_document(provider: str) -> None:
    document = openapi.document(provider)
    found = refs(document)
    assert found and all(reference.startswith("#/components/schemas/") for reference in found)
    for reference in found:
        assert isinstance(resolve(document, reference), dict), reference


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_emulators_annotations_stay_out(provider: str) -> None:
    text = json.dumps(openapi.document(provider))
    assert '"x-error"' not in text and '"x-boundary"' not in text and "$value" not in text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_schema_of_the_contract_is_a_component(provider: str) -> None:
    components = openapi.document(provider)["components"]["schemas"]
    assert set(load(provider).resources()) <= set(components)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_operation_has_its_error_shape_and_the_fault_rules_default(provider: str) -> None:
    document = openapi.document(provider)
    error = load(provider).data("api")["error"]
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            default = operation["responses"]["default"]["content"]
            [(media, body)] = default.items()
            assert media == error.get("media", "application/json"), (method, path)
            assert body["schema"] == {"$ref": f"#/components/schemas/{error['schema']}"}


def test_request_bodies_are_the_contracts_schemas() -> None:
    """The documents validate what the emulator validates: the same JSON Schema, referenced, not retyped."""
    evolink = openapi.document("evolink")
    create = evolink["paths"]["/v1/images/generations"]["post"]["requestBody"]["content"]["application/json"]
    assert create["schema"] == {"$ref": "#/components/schemas/imageGeneration"}
    generation = evolink["components"]["schemas"]["imageGeneration"]
    assert (
        generation["properties"]["prompt"]["maxLength"]
        == load("evolink").schema("imageGeneration")["properties"]["prompt"]["maxLength"]
    )


def test_replicate_reuses_the_versions_published_input_schema() -> None:
    from contracts.replicate import rules

    components = openapi.document("replicate")["components"]["schemas"]
    assert components["input"] == rules.openapi_schema()["components"]["schemas"]["Input"]


def test_values_come_from_the_rules() -> None:
    wiro = openapi.document("wiro")
    parameters = {p["name"]: p for p in wiro["paths"]["/v1/Run/{owner}/{model}"]["post"]["parameters"]}
    model = load("wiro").data("rules")["model"]
    assert parameters["owner"]["schema"]["enum"] == [model["owner"]]
    assert parameters["model"]["schema"]["enum"] == [model["project"]]


def test_authentication_is_described() -> None:
    wiro = openapi.document("wiro")
    schemes = wiro["components"]["securitySchemes"]
    assert {schemes[name]["name"] for name in ("apiKey", "nonce", "signature")} == {
        "x-api-key",
        "x-nonce",
        "x-signature",
    }
    assert wiro["security"] == [{"apiKey": [], "nonce": [], "signature": []}, {"apiKey": []}]
    replicate = openapi.document("replicate")
    assert replicate["security"] == [{"bearer": []}, {"token": []}]
    assert replicate["paths"]["/p/{id}"]["get"]["security"] == []
    for provider in ("runware", "evolink"):
        assert openapi.document(provider)["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_websocket_channels_are_listed() -> None:
    assert [channel["path"] for channel in openapi.document("runware")["x-websockets"]] == ["/v1"]
    [wiro] = openapi.document("wiro")["x-websockets"]
    assert wiro["send"] == {"$ref": "#/components/schemas/socketRegister"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_schemathesis_loads_every_operation(provider: str) -> None:
    schema = schemathesis.openapi.from_dict(openapi.document(provider))
    loaded = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert [(operation.method.upper(), operation.path) for operation in loaded] == openapi.operations(provider)


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert openapi.main(["evolink", "http://example:1/evolink"]) == 0
    assert json.loads(capsys.readouterr().out)["servers"] == [{"url": "http://example:1/evolink"}]
    assert openapi.main(["nowhere"]) == 2
