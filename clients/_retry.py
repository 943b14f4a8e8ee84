"""When to send a request again, and how long to wait first; sync and async.

Every call is SAFE (reading, or idempotent by design) or UNSAFE (it creates something). Both are
retried on a rate limit (the provider refused the request, so nothing happened) and on failures
to connect (the request never left). Only SAFE calls are also retried on 5xx and on transport
errors after the request was sent, because an UNSAFE one may have been carried out already.

The wait is the provider's Retry-After when it gives one (capped at 60 s), otherwise exponential
backoff: 0.5 s doubling up to 8 s, plus up to 25 % jitter so that clients do not retry in step.
A call bounded by a job deadline is not retried past it: the caller gets PollTimeout instead.
"""

from __future__ import annotations

import asyncio
import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

from ._errors import ConnectionFailed
from ._polling import Deadline

Outcome = httpx.Response | httpx.RequestError

# Errors raised before any byte of the request reached the server.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Safety(enum.Enum):
    SAFE = "safe"
    UNSAFE = "unsafe"


class Classifier(Protocol):
    """What the retry loop needs to know about a provider's replies."""

    @property
    def name(self) -> str: ...

    def rate_limited(self, response: httpx.Response) -> bool: ...

    def retry_after(self, response: httpx.Response) -> float | None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """The wait before retry number `retry` (0 for the first)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        backoff = min(self.initial_delay * 2.0**retry, self.max_delay)
        return backoff * (1 + self.jitter * rng.random())


def header_retry_after(response: httpx.Response) -> float | None:
    """Retry-After as delta-seconds or an HTTP-date (RFC 9110); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


@dataclass(frozen=True)
class Reply:
    response: httpx.Response
    # An earlier attempt may have been carried out (it got a 5xx, or was cut off after it was sent).
    repeated: bool = False


@dataclass
class Attempts:
    """One call's retry state. No I/O here, so the sync and async loops share every decision."""

    policy: RetryPolicy
    safety: Safety
    classifier: Classifier
    rng: random.Random
    request_timeout: float
    deadline: Deadline | None = None
    retries: int = field(default=0, init=False)
    repeated: bool = field(default=False, init=False)

    def timeout(self) -> float:
        """The next attempt's timeout: never much past the deadline, so a hung poll cannot outlive it."""
        if self.deadline is None:
            return self.request_timeout
        return min(self.request_timeout, max(self.deadline.remaining(), 1.0))

    def next_delay(self, outcome: Outcome) -> float | None:
        """Seconds to wait before trying again, or None to stop with this outcome."""
        if self.retries >= self.policy.max_retries or not self._retryable(outcome):
            return None
        hint = self.classifier.retry_after(outcome) if isinstance(outcome, httpx.Response) else None
        delay = self.policy.delay(self.retries, hint, self.rng)
        if self.deadline is not None and delay >= self.deadline.remaining():
            raise self.deadline.expired() from (outcome if isinstance(outcome, Exception) else None)
        self.retries += 1
        self.repeated = self.repeated or _maybe_carried_out(outcome)
        return delay

    def result(self, outcome: Outcome) -> Reply:
        if isinstance(outcome, httpx.RequestError):
            raise ConnectionFailed(
                f"{type(outcome).__name__}: {outcome or 'no detail'} ({self.retries} retries)",
                provider=self.classifier.name,
            ) from outcome
        return Reply(outcome, repeated=self.repeated)

    def _retryable(self, outcome: Outcome) -> bool:
        if isinstance(outcome, httpx.RequestError):
            if not isinstance(outcome, httpx.TransportError):
                return False
            return self.safety is Safety.SAFE or isinstance(outcome, NOT_SENT)
        if self.classifier.rate_limited(outcome):
            return True
        return self.safety is Safety.SAFE and outcome.status_code >= 500


def _maybe_carried_out(outcome: Outcome) -> bool:
    if isinstance(outcome, httpx.Response):
        return outcome.status_code >= 500
    return not isinstance(outcome, NOT_SENT)


def send(http: httpx.Client, build: Callable[[float], httpx.Request], attempts: Attempts) -> Reply:
    """Send `build(timeout)` until it succeeds or `attempts` says stop."""
    while True:
        outcome: Outcome
        try:
            outcome = http.send(build(attempts.timeout()))
        except httpx.RequestError as error:
            outcome = error
        delay = attempts.next_delay(outcome)
        if delay is None:
            return attempts.result(outcome)
        time.sleep(delay)


async def asend(http: httpx.AsyncClient, build: Callable[[float], httpx.Request], attempts: Attempts) -> Reply:
    while True:
        outcome: Outcome
        try:
            outcome = await http.send(build(attempts.timeout()))
        except httpx.RequestError as error:
            outcome = error
        delay = attempts.next_delay(outcome)
        if delay is None:
            return attempts.result(outcome)
        await asyncio.sleep(delay)
