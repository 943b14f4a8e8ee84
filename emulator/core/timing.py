from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Timing = Literal["instant", "fast", "realistic"]


@dataclass(frozen=True)
class TimingProfile:
    """How long a job waits in the queue and how long its images take.

    The first image of a job is ready `first_image_base + first_image_per_megapixel * MP` seconds after
    the job starts running; every further image follows `next_image_fraction` of that later.
    """

    name: str
    queue_delay: float
    first_image_base: float
    first_image_per_megapixel: float
    next_image_fraction: float

    def queue_seconds(self) -> float:
        return self.queue_delay

    def output_offsets(self, pixels: int, count: int) -> list[float]:
        first = self.first_image_base + self.first_image_per_megapixel * pixels / 1_000_000
        step = first * self.next_image_fraction
        return [first + step * index for index in range(count)]


PROFILES: dict[str, TimingProfile] = {
    "instant": TimingProfile("instant", 0.0, 0.0, 0.0, 0.0),
    "fast": TimingProfile("fast", 0.02, 0.05, 0.005, 0.1),
    "realistic": TimingProfile("realistic", 0.5, 1.0, 0.25, 0.4),
}


def profile(name: str) -> TimingProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown timing profile {name!r}; choose one of {', '.join(PROFILES)}") from None
