"""Per-key rate and concurrency limits of each surface (off unless configured)."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from .clock import Clock
from .jobs import Event, Job, Overloaded

WINDOW = 60.0


@dataclass(frozen=True)
class Limit:
    requests_per_minute: int | None = None
    concurrency: int | None = None

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1")

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


class Limited(Overloaded):
    """A key went over its limit; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float, *, concurrency: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.concurrency = concurrency


class Limiter:
    def __init__(self, clock: Clock, limits: Mapping[str, Limit] | None = None) -> None:
        self.clock = clock
        self.limits: dict[str, Limit] = dict(limits or {})
        self._requests: defaultdict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._running: defaultdict[tuple[str, str], int] = defaultdict(int)

    def set(self, surface: str, limit: Limit) -> None:
        self.limits[surface] = limit

    def admit(self, surface: str, key: str | None) -> None:
        """Count a request; raise Limited when the key is over its requests-per-minute limit."""
        limit = self.limits.get(surface)
        if limit is None or limit.requests_per_minute is None:
            return
        now = self.clock.now()
        recent = self._requests[(surface, key or "")]
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        if len(recent) >= limit.requests_per_minute:
            raise Limited(
                f"more than {limit.requests_per_minute} requests per minute for this key",
                max(1.0, recent[0] + WINDOW - now),
            )
        recent.append(now)

    def reserve(self, surface: str, key: str | None) -> None:
        """Raise Limited when the key already runs as many jobs as its concurrency limit allows."""
        limit = self.limits.get(surface)
        if (
            limit is not None
            and limit.concurrency is not None
            and self._running[(surface, key or "")] >= limit.concurrency
        ):
            raise Limited(
                f"more than {limit.concurrency} jobs at once for this key", 1.0, concurrency=limit.concurrency
            )

    def track(self, surface: str, key: str | None, job: Job) -> None:
        slot = (surface, key or "")
        if job.state.terminal:
            return
        self._running[slot] += 1

        def release(finished: Job, event: Event) -> None:
            if event.kind == "state" and event.state.terminal:
                self._running[slot] -= 1

        job.on_event(release)

    def reset(self) -> None:
        self._requests.clear()
        self._running.clear()
