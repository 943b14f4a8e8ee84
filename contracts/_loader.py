"""Load a provider's JSON Schema documents and validate instances against them.

Schemas may carry an `x-error` annotation on any node: provider data (code, parameter, message
template, ...) that the emulator turns into the provider's own error body. A violation reports
the nearest annotation on the path that the validator took to the failing keyword.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import jsonschema_rs

from ._text import fill

ROOT = Path(__file__).parent
BASE_URI = "https://seedream-emulator.local/contracts/"
ANNOTATION = "x-error"
# Messages name the offending value instead of quoting it: a 10 MB prompt once became a 10 MB message (and
# 90 ms of formatting per request); where a value is needed, the violation's `limits` and `details` carry it.
MASK = "the value"
LIMIT_KEYWORDS = ("minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "enum", "const", "pattern")


@dataclass(frozen=True)
class Violation:
    """One way an instance breaks its contract. `path` is a JSON pointer into the instance."""

    path: str
    message: str
    keyword: str
    annotation: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Any] = field(default_factory=dict)
    missing: str | None = None
    # What the validator found, by keyword (`types`, `options`, `limit`, `unexpected`, `format`...), for surfaces
    # that word a violation themselves.
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {"path": self.path, "message": self.message, "keyword": self.keyword}
        if self.fact is not None:
            record["fact"] = self.fact
        return record

    @property
    def fact(self) -> str | None:
        """The provider's rule this breaks, in the words the contract gives it (its `x-error` message with the
        limits filled in), for people reading the journal; None where the contract words none."""
        template = self.annotation.get("message") if self.annotation else None
        return fill(template, self.limits) if isinstance(template, str) else None


def pointer(parts: Sequence[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


# Characters: far above every maxLength in the contracts, so a string clipped to it breaks the same limits.
CLIP = 65_536
CLIP_DEPTH = 64


def _clipped(value: Any, path: list[str | int], clipped_at: set[str]) -> Any:
    """`value` with every string longer than CLIP cut to CLIP; the pointers of those strings go to `clipped_at`."""
    if isinstance(value, str):
        if len(value) <= CLIP:
            return value
        clipped_at.add(pointer(path))
        return value[:CLIP]
    if len(path) >= CLIP_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: _clipped(item, [*path, key], clipped_at) for key, item in value.items()}
    if isinstance(value, list):
        return [_clipped(item, [*path, index], clipped_at) for index, item in enumerate(value)]
    return value


def _keyword(error: jsonschema_rs.ValidationError) -> str:
    return str(error.evaluation_path[-1]) if error.evaluation_path else ""


class Validator:
    def __init__(self, contract: Contract, name: str) -> None:
        self.contract = contract
        self.name = name
        self.schema = contract.schema(name)
        self._compiled = jsonschema_rs.validator_for(
            self.schema, registry=contract.registry, validate_formats=True, mask=MASK
        )

    def is_valid(self, instance: Any) -> bool:
        try:
            return bool(self._compiled.is_valid(instance))
        except (ValueError, OverflowError):
            return False

    def violations(self, instance: Any) -> list[Violation]:
        try:
            if self._compiled.is_valid(instance):
                return []
            errors = self._errors(instance)
        except (ValueError, OverflowError) as exc:
            return [Violation("", f"the instance cannot be validated: {exc}", "type")]
        return [self._violation(error) for error in errors]

    def _errors(self, instance: Any) -> list[jsonschema_rs.ValidationError]:
        """The errors of an invalid instance. Each error carries a copy of the value it is about (a 60 MB prompt
        cost 70 ms of held GIL per error), so strings past CLIP are listed clipped first: still past every
        maxLength. Another error about a clipped string may be the clipping's doing, so it is not trusted; when
        nothing trustworthy is left, the instance is listed whole."""
        clipped_at: set[str] = set()
        clipped = _clipped(instance, [], clipped_at)
        if clipped_at:
            errors = [
                error
                for error in self._compiled.iter_errors(clipped)
                if pointer(list(error.instance_path)) not in clipped_at or _keyword(error) == "maxLength"
            ]
            if errors:
                return errors
        return list(self._compiled.iter_errors(instance))

    def _violation(self, error: jsonschema_rs.ValidationError) -> Violation:
        keyword = _keyword(error)
        node, annotation, document = self.contract.walk(self.schema, self.name, list(error.evaluation_path)[:-1])
        details = error.kind.as_dict()
        missing = None
        if keyword == "required":
            missing = details.get("property")
            prop = self.contract.property_node(node, document, missing)
            if prop is not None:
                node = prop
                annotation = prop.get(ANNOTATION, annotation)
        limits = {key: node[key] for key in LIMIT_KEYWORDS if isinstance(node, dict) and key in node}
        return Violation(
            path=pointer(list(error.instance_path)),
            message=error.message,
            keyword=keyword,
            annotation=annotation or {},
            limits=limits,
            missing=missing,
            details=details,
        )


class Contract:
    """Every schema and data file of one provider, e.g. `contracts/runware/*.json`."""

    def __init__(self, provider: str, directory: Path | None = None) -> None:
        self.provider = provider
        self.directory = directory or ROOT / provider
        self._documents: dict[str, dict[str, Any]] = {}
        for path in sorted(self.directory.glob("*.json")):
            self._documents[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        self.registry = jsonschema_rs.Registry([(self.uri(name), doc) for name, doc in self.resources().items()])
        self._validators: dict[str, Validator] = {}

    def uri(self, name: str) -> str:
        return f"{BASE_URI}{self.provider}/{name}.json"

    def resources(self) -> dict[str, dict[str, Any]]:
        """Every schema document, including definition-only ones such as common.json."""
        return {name: doc for name, doc in self._documents.items() if "$schema" in doc or "$defs" in doc}

    def names(self) -> list[str]:
        return [name for name, doc in self._documents.items() if "$schema" in doc]

    def schema(self, name: str) -> dict[str, Any]:
        return self._documents[name]

    def data(self, name: str) -> dict[str, Any]:
        return self._documents[name]

    def validator(self, name: str) -> Validator:
        if name not in self._validators:
            self._validators[name] = Validator(self, name)
        return self._validators[name]

    def resolve(self, reference: str, base: str) -> tuple[Any, str]:
        """The schema node a `$ref` names, and the document it lives in."""
        target, fragment = urldefrag(urljoin(self.uri(base), reference))
        name = Path(target).stem
        node: Any = self._documents[name]
        for part in fragment.lstrip("/").split("/") if fragment else []:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node, name

    def walk(self, node: Any, document: str, path: Sequence[str | int]) -> tuple[Any, Mapping[str, Any] | None, str]:
        """Follow an evaluation path through `$ref`s; return the final node and the nearest annotation."""
        annotation = node.get(ANNOTATION) if isinstance(node, dict) else None
        for part in path:
            if part == "$ref" and isinstance(node, dict):
                node, document = self.resolve(node["$ref"], document)
            elif isinstance(node, list):
                node = node[int(part)]
            elif isinstance(node, dict):
                node = node.get(str(part), {})
            if isinstance(node, dict) and ANNOTATION in node:
                annotation = node[ANNOTATION]
        while isinstance(node, dict) and "$ref" in node and len(node) == 1:
            node, document = self.resolve(node["$ref"], document)
        return node, annotation, document

    def property_node(self, node: Any, document: str, name: str | None) -> dict[str, Any] | None:
        if not isinstance(node, dict) or name is None:
            return None
        prop = node.get("properties", {}).get(name)
        if isinstance(prop, dict) and "$ref" in prop and ANNOTATION not in prop:
            prop, _ = self.resolve(prop["$ref"], document)
        return prop if isinstance(prop, dict) else None

    def defaults(self, name: str) -> dict[str, Any]:
        """Top-level property defaults declared in a schema."""
        result = {}
        for key, prop in self.schema(name).get("properties", {}).items():
            if isinstance(prop, dict) and "$ref" in prop:
                prop, _ = self.resolve(prop["$ref"], name)
            if isinstance(prop, dict) and "default" in prop:
                result[key] = prop["default"]
        return result


@cache
def load(provider: str) -> Contract:
    return Contract(provider)
