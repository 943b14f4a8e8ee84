"""One OpenAPI 3.1 document per surface, generated from its contract: `python -m contracts.openapi runware`.

`contracts/<provider>/api.json` is the data: the surface's routes (method, path, parameters, request bodies by media
type, replies by status, the statuses it refuses with), its security schemes and its error shape. Bodies and
replies name the contract's own JSON Schema documents, which become `components/schemas` unchanged but for their
`$ref`s (rewritten to point into the document) and the emulator's annotations (`x-error`, `x-boundary`), which
are removed. Where a provider's rules publish a schema of their own (Replicate's Cog `openapi_schema`), `reuse`
takes its components instead. A value api.json needs from the contract (a model's name, a schema's maxItems) is
written `{"$value": "rules.json#/model/owner"}`, never typed twice. WebSocket channels, which OpenAPI cannot describe, are listed under `x-websockets`
with the schemas of the frames each side sends.

OpenAPI 3.1 schemas are JSON Schema 2020-12, so nothing is translated: a document validates exactly what the
emulator validates. Every route also answers the fault rules' injected statuses in its error shape (`default`).
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

from ._loader import Contract, load
from .surfaces import SURFACES

VERSION = "3.1.0"
PROVIDERS = SURFACES
# The emulator's own annotations: how it words an error and where the harness finds a limit. Not the provider's API.
ANNOTATIONS = frozenset({"x-error", "x-boundary"})
# Keywords whose values are instances, not schemas: copied as they are.
VALUES = frozenset({"enum", "const", "default", "examples", "example"})
API = "api"
SCHEMAS = "#/components/schemas/"
VALUE = "$value"


def providers() -> list[str]:
    """The providers whose contract describes an API (has an `api.json`)."""
    return [provider for provider in PROVIDERS if (load(provider).directory / f"{API}.json").exists()]


def document(provider: str, server: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one surface; `server` is its base URL (with the surface's prefix, if any)."""
    contract = load(provider)
    api = _substitute(contract, contract.data(API))
    components: dict[str, Any] = {name: _schema(contract, name, doc) for name, doc in contract.resources().items()}
    for name, schema in api.get("components", {}).items():
        components[name] = _schema(contract, API, schema)
    components.update(_reused(provider, api.get("reuse", {})))
    error = api["error"]
    paths: dict[str, dict[str, Any]] = {}
    for route in api["routes"]:
        paths.setdefault(route["path"], {})[route["method"].lower()] = _operation(contract, api, route, error)
    result: dict[str, Any] = {
        "openapi": VERSION,
        "info": {
            "title": api["title"],
            "version": _version(),
            "description": api["description"],
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": server or f"http://127.0.0.1:8000/{provider}"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": api["securitySchemes"]},
        "security": api["security"],
    }
    if api.get("websockets"):
        result["x-websockets"] = [_channel(contract, channel) for channel in api["websockets"]]
    return result


def operations(provider: str) -> list[tuple[str, str]]:
    """Every (METHOD, path) the surface's document describes, in its order."""
    return [(route["method"], route["path"]) for route in load(provider).data(API)["routes"]]


def _operation(contract: Contract, api: dict[str, Any], route: dict[str, Any], error: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route["operationId"],
        "summary": route["summary"],
        "tags": [contract.provider],
    }
    named = api.get("parameters", {})
    parameters = [copy.deepcopy(named[item]) if isinstance(item, str) else item for item in route.get("parameters", [])]
    for parameter in parameters:
        parameter["schema"] = _rewritten(contract, API, parameter["schema"])
    if parameters:
        operation["parameters"] = parameters
    if "body" in route:
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": _reference(contract, schema)} for media, schema in route["body"].items()},
        }
    responses: dict[str, Any] = {}
    for status, reply in route["replies"].items():
        responses[status] = {"description": reply["description"]}
        if "schema" in reply:
            media = reply.get("media", "application/json")
            responses[status]["content"] = {media: {"schema": _reference(contract, reply["schema"])}}
    error_reply = {
        "content": {error.get("media", "application/json"): {"schema": _reference(contract, error["schema"])}},
    }
    for status in route.get("errors", []):
        responses.setdefault(status, {"description": error["description"], **error_reply})
    responses["default"] = {
        "description": "Any other status a fault rule injects, in the same error shape",
        **error_reply,
    }
    operation["responses"] = responses
    if "security" in route:
        operation["security"] = route["security"]
    return operation


def _channel(contract: Contract, channel: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": channel["path"],
        "summary": channel["summary"],
        "send": _reference(contract, channel["send"]),
        "receive": _reference(contract, channel["receive"]),
    }


def _reference(contract: Contract, schema: str | dict[str, Any]) -> dict[str, Any]:
    """A named component as a `$ref`, or an inline schema (written with the contract's own `$ref`s) rewritten."""
    if isinstance(schema, str):
        return {"$ref": SCHEMAS + schema}
    rewritten: dict[str, Any] = _rewritten(contract, API, schema)
    return rewritten


def _schema(contract: Contract, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = _rewritten(contract, name, schema)
    node.pop("$schema", None)
    node.pop("$id", None)
    return node


def _rewritten(contract: Contract, document: str, node: Any) -> Any:
    """`node` without annotations, each `$ref` (relative to `document`) pointing into `#/components/schemas/`."""
    if isinstance(node, list):
        return [_rewritten(contract, document, item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS:
            continue
        if key == "$ref" and isinstance(value, str):
            result[key] = _target(contract, document, value)
        elif key in VALUES:
            result[key] = copy.deepcopy(value)
        elif key in ("properties", "$defs", "patternProperties", "dependentSchemas"):
            result[key] = {name: _rewritten(contract, document, item) for name, item in value.items()}
        else:
            result[key] = _rewritten(contract, document, value)
    return result


def _target(contract: Contract, document: str, reference: str) -> str:
    target, fragment = urldefrag(urljoin(contract.uri(document), reference))
    return SCHEMAS + Path(target).stem + fragment


def _reused(provider: str, reuse: dict[str, str]) -> dict[str, Any]:
    """Components a provider's rules already publish (`contract name -> their component name`)."""
    if not reuse:
        return {}
    published = importlib.import_module(f"contracts.{provider}.rules").openapi_schema()["components"]["schemas"]
    return {name: copy.deepcopy(published[component]) for name, component in reuse.items()}


def _substitute(contract: Contract, node: Any) -> Any:
    """`{"$value": "rules.json#/model/owner"}` anywhere in api.json becomes that value of the contract's document:
    no value typed twice."""
    if isinstance(node, list):
        return [_substitute(contract, item) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {VALUE}:
        name, _, pointer = node[VALUE].partition("#")
        value: Any = contract.data(Path(name).stem)
        for part in pointer.lstrip("/").split("/"):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value
    return {key: _substitute(contract, value) for key, value in node.items()}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("seedream-emulator")
    except Exception:  # not installed (a source checkout on the path): the document is still complete
        return "0"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2) or args[0] not in PROVIDERS:
        print(f"usage: python -m contracts.openapi {{{','.join(PROVIDERS)}}} [SERVER_URL]", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(document(args[0], args[1] if len(args) == 2 else None), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
