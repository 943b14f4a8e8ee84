"""The harness's JSON-lines adapter protocol as a JSON Schema (protocol.json), for clients in any language.

`violations(message, kind)` checks one message against one of the schema's definitions (`ready`, `request`,
`generateReply`, ...) and returns readable problems, each naming the JSON pointer of the offending value.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from .._loader import pointer

PROTOCOL_PATH = Path(__file__).parent / "protocol.json"
# The reply definition for each request op.
REPLIES = {
    "generate": "generateReply",
    "wait": "generateReply",
    "start": "startReply",
    "cancel": "cancelReply",
    "verify_webhook": "verifyReply",
}
# What a failed `oneOf` means, in words: the validator's own message only says that no alternative matched.
ONE_OF_HINTS = {
    "image": "an image needs exactly one of `url` (a string) or `base64` (a string)",
    "generateReply": "a generate or wait reply needs exactly one of `images` (a list) or `failure` (an object)",
}


@cache
def protocol() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(PROTOCOL_PATH.read_text(encoding="utf-8"))
    return document


@cache
def _validator(definition: str) -> Any:
    schema = protocol()
    if definition not in schema["$defs"]:
        raise KeyError(f"the adapter protocol defines no {definition!r}")
    return jsonschema_rs.validator_for({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"})


def violations(message: Any, definition: str) -> list[str]:
    """What is wrong with `message` as a `definition` of the protocol, most specific first; [] when it is valid."""
    found = []
    for error in _validator(definition).iter_errors(message):
        path = list(error.instance_path)
        where = pointer(path) or "the message"
        text = error.message
        if "oneOf" in text:
            hint = "image" if len(path) == 2 and path[0] == "images" else definition
            text = ONE_OF_HINTS.get(hint, text)
        found.append(f"{where}: {text}")
    return found


def capabilities() -> tuple[str, ...]:
    return tuple(protocol()["$defs"]["ready"]["properties"]["capabilities"]["items"]["enum"])


def failure_kinds() -> tuple[str, ...]:
    return tuple(protocol()["$defs"]["failure"]["properties"]["kind"]["enum"])
