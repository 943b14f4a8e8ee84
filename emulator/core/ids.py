"""Deterministic identifiers and random numbers: one seeded source per emulator instance."""

from __future__ import annotations

import random
import string

ALPHANUMERIC = string.ascii_lowercase + string.digits


class IdSource:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def uuid4(self) -> str:
        return uuid4_text(self._rng.getrandbits(128))

    def uuid4_int(self) -> int:
        """The next UUID v4 as an integer (the same draw `uuid4` makes)."""
        return uuid4_number(self._rng.getrandbits(128))

    def token(self, length: int, alphabet: str = ALPHANUMERIC) -> str:
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def uint32(self) -> int:
        return self._rng.getrandbits(32)

    def reseed(self, generation: int) -> None:
        """A sequence of its own for the `generation`-th start of a persistent emulator (the first is `seed`'s)."""
        self._rng = random.Random(self.seed if generation <= 1 else f"{self.seed}/{generation}")

    def reset(self) -> None:
        self._rng = random.Random(self.seed)


def uuid4_number(number: int) -> int:
    """`uuid.UUID(int=number % 2**128, version=4).int`: the variant and version bits set, without the object."""
    number = number % 2**128 & ~(0xC000 << 48) | 0x8000 << 48
    return number & ~(0xF000 << 64) | 4 << 76


def uuid4_text(number: int) -> str:
    """`str(uuid.UUID(int=number % 2**128, version=4))`, a few times faster (ids are made on every request)."""
    digits = f"{uuid4_number(number):032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
