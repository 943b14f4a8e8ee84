"""Every limit of a request contract, with a value just inside it and one just outside.

The emulator enforces the limits; the conformance harness tests clients at them. Both read them from the same
JSON Schema (and each provider's cross-field rules), so a limit is never typed twice. A boundary is a pair of
patches (JSON pointer -> value) to apply to a valid base request: `inside` must be served, `outside` refused.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._loader import Contract, pointer

Patch = Mapping[str, Any]
NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
LENGTHS = ("minLength", "maxLength")
COUNTS = ("minItems", "maxItems")
BOUNDARY_NOTE = "x-boundary"


@dataclass(frozen=True)
class Boundary:
    """One limit: `inside` is the last value it allows, `outside` the first it refuses (None: nothing lies outside).

    `refused_by` says how the provider refuses the outside value: "request" (an error reply to the create) or
    "task" (the create is accepted and the job fails, e.g. a reference image the provider reads later)."""

    name: str
    keyword: str
    bound: Any
    inside: Patch
    outside: Patch | None
    refused_by: str = "request"

    def apply(self, body: Mapping[str, Any], side: str) -> dict[str, Any]:
        """`body` with the `inside` or `outside` patch applied (nested objects are created as needed)."""
        patch = self.inside if side == "inside" else self.outside
        if patch is None:
            raise ValueError(f"{self.name} has no outside value")
        return patched(body, patch)


def patched(body: Mapping[str, Any], patch: Patch) -> dict[str, Any]:
    result: dict[str, Any] = copy.deepcopy(dict(body))
    for path, value in patch.items():
        *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]
        node = result
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return result


def walk(contract: Contract, name: str) -> list[Boundary]:
    """The numeric, length, count and enum limits of schema `name`, property by property, nested objects included.

    A node may name limits that another rule supersedes in `x-boundary` ({keyword: reason}); those are left out
    here and listed by `superseded`, and the provider's rules give the real boundary instead."""
    return [
        b
        for b in _properties(contract, contract.schema(name), name, ())
        if b.keyword not in _skipped(contract, name, b)
    ]


def superseded(contract: Contract, name: str) -> dict[str, str]:
    """Limits of schema `name` that its `x-boundary` annotations hand to cross-field rules: name -> reason."""
    found = {}
    for boundary in _properties(contract, contract.schema(name), name, ()):
        reason = _skipped(contract, name, boundary).get(boundary.keyword)
        if reason is not None:
            found[boundary.name] = reason
    return found


def example(contract: Contract, name: str) -> dict[str, Any]:
    """The smallest valid request of schema `name`: its first top-level `examples` entry."""
    return copy.deepcopy(contract.schema(name)["examples"][0])


def _skipped(contract: Contract, name: str, boundary: Boundary) -> Mapping[str, str]:
    node: Any = contract.schema(name)
    document = name
    for part in boundary.name.split(" ", 1)[0].lstrip("/").split("/"):
        node, document = _resolve(contract, node.get("properties", {}).get(part, {}), document)
    marks = node.get(BOUNDARY_NOTE, {})
    return marks if isinstance(marks, dict) else {}


def _properties(contract: Contract, node: Mapping[str, Any], document: str, at: tuple[str, ...]) -> Iterator[Boundary]:
    for key, child in node.get("properties", {}).items():
        resolved, where = _resolve(contract, child, document)
        path = (*at, key)
        yield from _limits(resolved, path)
        if "properties" in resolved:
            yield from _properties(contract, resolved, where, path)


def _resolve(contract: Contract, node: Any, document: str) -> tuple[dict[str, Any], str]:
    """A schema node with its `$ref` followed and the referring node's own keywords kept on top."""
    if not isinstance(node, dict):
        return {}, document
    if "$ref" not in node:
        return node, document
    target, where = contract.resolve(node["$ref"], document)
    base, where = _resolve(contract, target, where)
    return {**base, **{k: v for k, v in node.items() if k != "$ref"}}, where


def _limits(node: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[Boundary]:
    at = pointer(list(path))
    for keyword in NUMERIC:
        if keyword in node:
            yield _numeric(node, at, keyword)
    for keyword in LENGTHS:
        if keyword in node:
            yield _length(node, at, keyword)
    for keyword in COUNTS:
        if keyword in node:
            yield _count(node, at, keyword)
    choices = _choices(node)
    if choices:
        yield Boundary(f"{at} enum", "enum", choices, {at: choices[-1]}, {at: _not_one_of(choices)})


def _numeric(node: Mapping[str, Any], at: str, keyword: str) -> Boundary:
    bound = node[keyword]
    step = 1 if node.get("type") == "integer" or node.get("multipleOf") == 1 or isinstance(bound, int) else 1e-6
    lower = keyword in ("minimum", "exclusiveMinimum")
    inside = bound if keyword in ("minimum", "maximum") else (bound + step if lower else bound - step)
    outside = inside - step if lower else inside + step
    return Boundary(f"{at} {keyword} {bound}", keyword, bound, {at: inside}, {at: outside})


def _length(node: Mapping[str, Any], at: str, keyword: str) -> Boundary:
    bound = node[keyword]
    inside = _sized(_example(node), bound)
    outside = (
        None
        if keyword == "minLength" and bound == 0
        else _sized(_example(node), bound + (1 if keyword == "maxLength" else -1))
    )
    return Boundary(f"{at} {keyword} {bound}", keyword, bound, {at: inside}, None if outside is None else {at: outside})


def _count(node: Mapping[str, Any], at: str, keyword: str) -> Boundary:
    bound = node[keyword]
    item = _example(node.get("items", {}))
    inside = [item] * bound
    outside = None if keyword == "minItems" and bound == 0 else [item] * (bound + (1 if keyword == "maxItems" else -1))
    return Boundary(f"{at} {keyword} {bound}", keyword, bound, {at: inside}, None if outside is None else {at: outside})


def _choices(node: Mapping[str, Any]) -> list[Any]:
    if "enum" in node:
        return list(node["enum"])
    if "const" in node:
        return [node["const"]]
    return [choice for branch in node.get("anyOf", ()) if isinstance(branch, dict) for choice in branch.get("enum", ())]


def _not_one_of(choices: list[Any]) -> Any:
    if all(isinstance(choice, str) for choice in choices):
        return "not-" + "-".join(str(choice) for choice in choices[:2])
    return max(choice for choice in choices if isinstance(choice, int | float)) + 1


def _example(node: Mapping[str, Any]) -> Any:
    """A valid value of a node: its first `examples` entry, else its default, else a plain one of its type."""
    if node.get("examples"):
        return node["examples"][0]
    if "default" in node and node["default"] not in ("", [], None):
        return node["default"]
    for branch in node.get("anyOf", ()):
        if isinstance(branch, dict) and branch.get("examples"):
            return branch["examples"][0]
    return "x"


def _sized(example: Any, length: int) -> str:
    """`example` cut or padded at its end to exactly `length` characters."""
    text = str(example)
    return text[:length] if len(text) >= length else text + "x" * (length - len(text))
