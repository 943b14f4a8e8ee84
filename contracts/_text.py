"""Filling message templates from contract data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """`{name}` placeholders replaced from `values` (lists joined with ", "); unknown ones stay as written.

    Anything but a string passes through, so whole annotations can be filled field by field.
    """
    if not isinstance(template, str):
        return template

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        if found is None:
            return match.group(0)
        return ", ".join(map(str, found)) if isinstance(found, (list, tuple)) else str(found)

    return PLACEHOLDER.sub(value, template)
