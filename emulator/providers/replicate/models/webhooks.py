"""Prediction webhooks: which targets hear which events, Replicate's throttle, the send order, and the signature."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import string
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts import Violation
from contracts.addresses import host_of
from contracts.replicate import rules
from emulator.core.http import dumps
from emulator.core.runtime import Runtime
from emulator.core.webhooks import Delivery, RetryPolicy

from .views import SURFACE, Snapshot, Views

if TYPE_CHECKING:
    from .predictions import Prediction

logger = logging.getLogger(__name__)

RULES = rules.RULES
TERMINAL_POLICY = RetryPolicy.from_spec(RULES["webhooks"]["terminal"])
INTERMEDIATE_POLICY = RetryPolicy.from_spec(RULES["webhooks"]["intermediate"])
THROTTLED = frozenset({"output", "logs"})
MESSAGE_ID_ALPHABET = string.ascii_letters + string.digits
FIELDS = ("webhook", "webhook_completed")


@dataclass(frozen=True)
class Target:
    url: str
    events: frozenset[str]
    throttled: bool


@dataclass
class Outbox:
    """One prediction's webhook targets and the deliveries queued for them, sent in event order."""

    targets: list[Target]
    last_sent_at: float | None = None
    queue: deque[tuple[Target, str, str, Snapshot]] = field(default_factory=deque)
    flushing: bool = False

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> Outbox:
        targets = []
        if isinstance(body.get("webhook"), str):
            events = body.get("webhook_events_filter")
            chosen = frozenset(events) if isinstance(events, list) else frozenset(rules.WEBHOOK_EVENTS)
            targets.append(Target(body["webhook"], chosen, throttled=True))
        if isinstance(body.get("webhook_completed"), str):
            targets.append(Target(body["webhook_completed"], frozenset({"completed"}), throttled=False))
        return cls(targets)


class Webhooks:
    def __init__(self, runtime: Runtime, views: Views, secret: str | None = None) -> None:
        self.runtime = runtime
        self.views = views
        self.secret = secret or derived_secret(runtime.ids.seed)
        self._key = base64.b64decode(self.secret.split("_", 1)[1])

    def check(self, body: Mapping[str, Any]) -> tuple[list[Violation], list[str]]:
        """Targets Replicate refuses with 422, and journal warnings for targets production refuses that the target
        policy (read now: it changes at run time) lets through."""
        found: list[Violation] = []
        warnings: list[str] = []
        targets = self.runtime.targets
        for key in FIELDS:
            url = body.get(key)
            if not isinstance(url, str):
                continue
            problem = rules.webhook_problem(key, url)
            if problem is not None:
                found.append(problem)
                continue
            host = host_of(url)
            found += [rules.webhook_refusal(key, refused.kind, host) for refused in targets.refused(url)]
            if not targets.strict:
                warnings += [rules.webhook_warning(key, url, seen.kind, host) for seen in targets.problems(url)]
        return found, warnings

    def notify(self, prediction: Prediction, kind: str, at: float, snapshot: Snapshot | Callable[[], Snapshot]) -> None:
        """Queue the webhooks `kind` triggers, throttled like Replicate: output/logs at most every 500 ms."""
        outbox = prediction.outbox
        throttle = RULES["webhooks"]["throttleSeconds"]
        for target in outbox.targets:
            if kind not in target.events:
                continue
            recent = outbox.last_sent_at is not None and at - outbox.last_sent_at < throttle
            if target.throttled and kind in THROTTLED and recent:
                continue
            if target.throttled:
                outbox.last_sent_at = at
            if callable(snapshot):
                snapshot = snapshot()
            message_id = "msg_" + self.runtime.ids.token(27, MESSAGE_ID_ALPHABET)
            outbox.queue.append((target, kind, message_id, snapshot))
        if outbox.queue and not outbox.flushing:
            outbox.flushing = True
            self.runtime.spawn(self._flush(prediction))

    async def _flush(self, prediction: Prediction) -> None:
        """Send queued webhooks in event order (deliveries, and retries, then run concurrently)."""
        outbox = prediction.outbox
        try:
            while outbox.queue:
                target, kind, message_id, snapshot = outbox.queue.popleft()
                try:
                    body = await self.views.encode(snapshot, self.views.form("webhook"), prediction.base)
                except Exception:  # a webhook that cannot be built must not stop the ones after it
                    logger.exception("cannot build the %s webhook of prediction %s", kind, prediction.id)
                    continue
                self.runtime.webhooks.send(
                    surface=SURFACE,
                    url=target.url,
                    body=dumps(body),
                    policy=TERMINAL_POLICY if kind == "completed" else INTERMEDIATE_POLICY,
                    event=kind,
                    job_id=prediction.id,
                    headers={"Content-Type": "application/json", "webhook-id": message_id},
                    signer=self.sign,
                    context=prediction.context,
                )
        finally:
            outbox.flushing = False

    def sign(self, delivery: Delivery, body: bytes) -> dict[str, str]:
        """Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, a fresh timestamp per attempt."""
        sent_at = str(int(self.runtime.clock.now()))
        content = f"{delivery.headers['webhook-id']}.{sent_at}.".encode() + body
        signature = base64.b64encode(hmac.new(self._key, content, hashlib.sha256).digest()).decode()
        return {"webhook-timestamp": sent_at, "webhook-signature": f"v1,{signature}"}


def derived_secret(seed: int) -> str:
    """A stable signing secret per emulator seed, without drawing from the id generator."""
    digest = hashlib.sha256(f"seedream-emulator replicate webhook secret {seed}".encode()).digest()
    return "whsec_" + base64.b64encode(digest[:24]).decode()


def valid_secret(secret: str) -> bool:
    prefix, underscore, encoded = secret.partition("_")
    if prefix != "whsec" or not underscore or "_" in encoded or not encoded:
        return False
    try:
        return len(base64.b64decode(encoded, validate=True)) > 0
    except (binascii.Error, ValueError):
        return False
