"""Render a provider's contract as Markdown: `python -m contracts.docs runware > docs/contracts/runware.md`.

The tables are generated so that no limit is typed twice; a test keeps the committed files current.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

from ._loader import Contract, load

LIMIT_KEYS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def render(provider: str) -> str:
    contract = load(provider)
    lines = [
        f"# {provider} contract",
        "",
        f"Generated from `contracts/{provider}/` by `python -m contracts.docs {provider}`; do not edit by hand.",
        "",
    ]
    for name in contract.names():
        lines += _message(contract, name)
    rules = _rules_module(provider)
    if rules is not None and hasattr(rules, "describe"):
        lines += ["## Cross-field rules", "", *rules.describe(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _message(contract: Contract, name: str) -> list[str]:
    schema = contract.schema(name)
    lines = [f"## `{name}`", "", schema.get("title", ""), ""]
    properties = schema.get("properties", {})
    if not properties:
        return lines
    required = set(schema.get("required", []))
    lines += ["| field | type | limits | default | required |", "|---|---|---|---|---|"]
    for field, node in _flatten(contract, name, properties):
        lines.append(
            f"| `{field}` | {_type(node)} | {_limits(node)} | {_code(node['default']) if 'default' in node else ''} "
            f"| {'yes' if field in required else ''} |"
        )
    lines.append("")
    return lines


def _flatten(contract: Contract, document: str, properties: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows = []
    for key, node in properties.items():
        if isinstance(node, dict) and "$ref" in node:
            node, _ = contract.resolve(node["$ref"], document)
        rows.append((prefix + key, node))
        if isinstance(node, dict) and "properties" in node:
            rows += _flatten(contract, document, node["properties"], f"{prefix}{key}.")
    return rows


def _type(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    if "const" in node:
        return f"const {_code(node['const'])}"
    if "enum" in node:
        return "one of " + ", ".join(_code(value) for value in node["enum"])
    if "anyOf" in node:
        return " or ".join(_type(option) for option in node["anyOf"])
    kind = node.get("type", "")
    if kind == "array" and isinstance(node.get("items"), dict):
        return "array"
    return str(kind)


def _limits(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    found = [f"{key} {node[key]}" for key in LIMIT_KEYS if key in node]
    if "pattern" in node:
        found.append(f"pattern `{node['pattern']}`")
    return ", ".join(found)


def _code(value: Any) -> str:
    return f"`{json.dumps(value)}`"


def _rules_module(provider: str) -> Any:
    try:
        return importlib.import_module(f"contracts.{provider}.rules")
    except ModuleNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m contracts.docs PROVIDER", file=sys.stderr)
        return 2
    sys.stdout.write(render(args[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
