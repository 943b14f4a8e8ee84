"""Outbound HTTP deliveries (webhooks, callbacks, upload PUTs) with retries and a delivery log."""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import httpx

from .clock import Clock
from .faults import Context, FaultEngine

if TYPE_CHECKING:
    from .state import StateDir


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after a failed attempt.

    `schedule` lists explicit delays before retry 1, 2, ...; otherwise the delay is
    `initial_delay * multiplier**(n-1)` capped at `max_delay`, spread by +/- `jitter` (a fraction).
    """

    max_attempts: int = 1
    initial_delay: float = 1.0
    multiplier: float = 2.0
    max_delay: float = math.inf
    jitter: float = 0.0
    timeout: float = 10.0
    schedule: tuple[float, ...] = ()

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> RetryPolicy:
        """A policy as contracts write it: `maxAttempts`, `timeout`, and either `retryDelays` (explicit
        delays) or `initialDelay` / `multiplier` / `maxDelay` / `jitter`."""
        delays = tuple(float(delay) for delay in spec.get("retryDelays", ()))
        return cls(
            max_attempts=int(spec.get("maxAttempts", 1 + len(delays))),
            initial_delay=float(spec.get("initialDelay", 1.0)),
            multiplier=float(spec.get("multiplier", 2.0)),
            max_delay=float(spec.get("maxDelay", math.inf)),
            jitter=float(spec.get("jitter", 0.0)),
            timeout=float(spec["timeout"]),
            schedule=delays,
        )

    def delay(self, retry: int, rng: random.Random) -> float:
        if self.schedule:
            base = self.schedule[min(retry, len(self.schedule)) - 1]
        else:
            base = min(self.initial_delay * self.multiplier ** (retry - 1), self.max_delay)
        if self.jitter:
            base *= 1 + rng.uniform(-self.jitter, self.jitter)
        return max(0.0, base)


@dataclass
class Attempt:
    number: int
    at: float
    status: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    response: str | None = None
    # What the signer added for this attempt (signatures carry the attempt's time), for people reading the log.
    signed: dict[str, str] = field(default_factory=dict)


@dataclass
class Delivery:
    id: str
    surface: str
    url: str
    method: str
    event: str
    job_id: str | None
    body_bytes: int
    headers: dict[str, str]
    state: Literal["pending", "delivered", "failed", "dropped", "refused"] = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Signer = Callable[[Delivery, bytes], Mapping[str, str]]
# Says why a target must not be called (it resolves to an internal address under strict rules), or None.
Guard = Callable[[str], Awaitable[str | None]]
# A delivery kept in a state directory until it ends: what `_deliver` needs to start it again.
Pending = tuple["Delivery", bytes, "RetryPolicy", "Signer | None"]
STATE_KIND = "delivery"
RESPONSE_EXCERPT = 512
# A delivery held back to arrive out of order waits at most this long for the next one of its job.
REORDER_HOLD = 30.0


class WebhookDispatcher:
    def __init__(
        self,
        clock: Clock,
        *,
        seed: int = 0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_log: int = 10_000,
        faults: FaultEngine | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.clock = clock
        self.faults = faults
        self.guard = guard
        self._seed = seed
        self._rng = random.Random(seed)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._ids = itertools.count(1)
        self._log: deque[Delivery] = deque(maxlen=max_log)
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: dict[str | None, list[asyncio.Event]] = {}
        self.state: StateDir | None = None
        self._resumable: list[Pending] = []

    def deliveries(self, job_id: str | None = None) -> list[Delivery]:
        return [d for d in self._log if job_id is None or d.job_id == job_id]

    def send(
        self,
        *,
        surface: str,
        url: str,
        body: bytes,
        policy: RetryPolicy,
        event: str,
        job_id: str | None = None,
        method: str = "POST",
        headers: Mapping[str, str] | None = None,
        signer: Signer | None = None,
        context: Context | None = None,
    ) -> Delivery:
        """Deliver in the background, applying the delivery faults that fire for `context`."""
        fired = self.faults.delivery(context) if self.faults is not None and context is not None else []
        kinds = [rule.webhook for rule in fired]
        delivery = self._new(surface, url, method, event, job_id, body, headers)
        delivery.faults = kinds
        if "drop" in kinds:
            delivery.state = "dropped"
            return delivery
        delay = sum(rule.seconds for rule in fired if rule.webhook == "delay")
        hold = asyncio.Event() if "reorder" in kinds else None
        released = self._held.pop(job_id, []) if hold is None else []
        if hold is not None:
            self._held.setdefault(job_id, []).append(hold)
        self._keep(delivery, body, policy, signer)
        self._start(self._deliver(delivery, body, policy, signer, delay=delay, hold=hold, release=released))
        if "duplicate" in kinds:
            copy = self._new(surface, url, method, event, job_id, body, headers)
            copy.faults = ["duplicate of " + delivery.id]
            self._keep(copy, body, policy, signer)
            self._start(self._deliver(copy, body, policy, signer, delay=delay))
        return delivery

    def restore(self, pending: list[Pending]) -> None:
        """Take back the deliveries a state directory held unfinished; `resume` sends them again."""
        for delivery, *_ in pending:
            self._log.append(delivery)
        numbers = [int(delivery.id.removeprefix("dlv_")) for delivery, *_ in pending]
        self._ids = itertools.count(max(numbers, default=0) + 1)
        self._resumable = list(pending)

    def resume(self) -> None:
        resumable, self._resumable = self._resumable, []
        for delivery, body, policy, signer in resumable:
            self._start(self._deliver(delivery, body, policy, signer))

    def _keep(self, delivery: Delivery, body: bytes, policy: RetryPolicy, signer: Signer | None) -> None:
        if self.state is not None:
            self.state.save(STATE_KIND, delivery.id, (delivery, body, policy, signer))

    def _new(
        self,
        surface: str,
        url: str,
        method: str,
        event: str,
        job_id: str | None,
        body: bytes,
        headers: Mapping[str, str] | None,
    ) -> Delivery:
        delivery = Delivery(
            id=f"dlv_{next(self._ids)}",
            surface=surface,
            url=url,
            method=method,
            event=event,
            job_id=job_id,
            body_bytes=len(body),
            headers=dict(headers or {}),
        )
        self._log.append(delivery)
        return delivery

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every delivery has succeeded or given up (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._log.clear()
        self._held.clear()
        self._rng = random.Random(self._seed)
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        self.reset()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _deliver(
        self,
        delivery: Delivery,
        body: bytes,
        policy: RetryPolicy,
        signer: Signer | None,
        *,
        delay: float = 0.0,
        hold: asyncio.Event | None = None,
        release: list[asyncio.Event] | None = None,
    ) -> None:
        try:
            await self._send(delivery, body, policy, signer, delay=delay, hold=hold, release=release)
        finally:
            if self.state is not None and delivery.state != "pending":
                self.state.delete(STATE_KIND, delivery.id)

    async def _send(
        self,
        delivery: Delivery,
        body: bytes,
        policy: RetryPolicy,
        signer: Signer | None,
        *,
        delay: float,
        hold: asyncio.Event | None,
        release: list[asyncio.Event] | None,
    ) -> None:
        if delay > 0:
            await self.clock.sleep_until(self.clock.now() + delay)
        if hold is not None:
            await self._wait_for_release(hold)
        refusal = await self.guard(delivery.url) if self.guard is not None else None
        if refusal is not None:
            delivery.attempts.append(Attempt(1, self.clock.now(), error=refusal))
            delivery.state = "refused"
            for event in release or []:
                event.set()
            return
        for number in range(1, policy.max_attempts + 1):
            if number > 1:
                await self.clock.sleep_until(self.clock.now() + policy.delay(number - 1, self._rng))
            delivered = await self._attempt(delivery, body, policy, signer, number)
            for event in release or []:
                event.set()
            release = None
            if delivered:
                delivery.state = "delivered"
                return
        delivery.state = "failed"

    async def _wait_for_release(self, hold: asyncio.Event) -> None:
        released = asyncio.ensure_future(hold.wait())
        timeout = asyncio.ensure_future(self.clock.sleep_until(self.clock.now() + REORDER_HOLD))
        try:
            await asyncio.wait({released, timeout}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            released.cancel()
            timeout.cancel()

    async def _attempt(
        self, delivery: Delivery, body: bytes, policy: RetryPolicy, signer: Signer | None, number: int
    ) -> bool:
        attempt = Attempt(number, self.clock.now())
        delivery.attempts.append(attempt)
        headers = dict(delivery.headers)
        if signer is not None:
            attempt.signed = dict(signer(delivery, body))
            headers.update(attempt.signed)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            response = await self._http().request(
                delivery.method, delivery.url, content=body, headers=headers, timeout=policy.timeout
            )
        except Exception as exc:  # bad URLs, refused ports, failing signers: all are failed attempts
            attempt.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return False
        finally:
            attempt.duration_ms = round((loop.time() - started) * 1000, 3)
        attempt.status = response.status_code
        attempt.response = response.text[:RESPONSE_EXCERPT]
        return response.is_success

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self._transport, follow_redirects=False)
        return self._client
