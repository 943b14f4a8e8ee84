"""Deterministic identifiers and random numbers: one seeded source per emulator instance."""

from __future__ import annotations

import random
import string
import uuid

ALPHANUMERIC = string.ascii_lowercase + string.digits


class IdSource:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self, length: int, alphabet: str = ALPHANUMERIC) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def uint32(self) -> int:
        return self._rng.getrandbits(32)

    def reset(self) -> None:
        self._rng = random.Random(self.seed)
