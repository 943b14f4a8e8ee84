"""Which API keys the key-authenticated surfaces (Runware, EvoLink, Replicate) accept.

With no keys configured any non-empty key works, so a developer can start without one; the conformance harness
narrows it to its own key at run time, so a client that loses or mangles its key fails as it would in production.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass
class KeyPolicy:
    accepted: frozenset[str] = frozenset()

    @classmethod
    def of(cls, keys: Iterable[str]) -> KeyPolicy:
        return cls(frozenset(keys))

    def allows(self, key: str) -> bool:
        return bool(key) and (not self.accepted or key in self.accepted)
