"""A manual clock on which time passes between two reads, as it does on a real one."""

from __future__ import annotations

from emulator.core.clock import ManualClock


class SteppingClock(ManualClock):
    """Moves `step` seconds on every read (none until told): a reply built from two reads of the clock shows two
    moments, which on the system clock happens only when a step of a job falls in the microseconds between them."""

    def __init__(self, step: float = 0.0) -> None:
        super().__init__()
        self.step = step

    def now(self) -> float:
        moment = super().now()
        self.set(moment + self.step)
        return moment
