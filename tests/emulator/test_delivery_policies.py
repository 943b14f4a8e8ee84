"""Receivers that hang, answer 5xx or reset get exactly the retries each provider documents, no more, no less."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import pytest

from emulator.core.clock import ManualClock
from emulator.core.webhooks import RetryPolicy, WebhookDispatcher
from emulator.providers.evolink.models.callbacks import CALLBACK_POLICY as EVOLINK
from emulator.providers.replicate.models.webhooks import TERMINAL_POLICY as REPLICATE
from emulator.providers.runware.models.results import WEBHOOK_POLICY as RUNWARE
from emulator.providers.wiro.models.lifecycle import CALLBACK_POLICY as WIRO
from tests.support import drive

# What each provider page says (typed here independently of the contracts, which the emulator reads).
DOCUMENTED = {
    "evolink": (EVOLINK, 4, [1.0, 2.0, 4.0]),  # "10 s timeout, retries after 1/2/4 s"
    "replicate": (REPLICATE, 7, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),  # terminal webhook, backoff to ~1 min
    "wiro": (WIRO, 4, [1.0, 2.0, 4.0]),  # undocumented upstream: the emulator's recorded choice
}


def hang(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("the receiver never answered", request=request)


def reset(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("connection reset by peer", request=request)


def server_error(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503)


@pytest.mark.parametrize("receiver", [hang, reset, server_error], ids=["hangs", "resets", "5xx"])
@pytest.mark.parametrize("provider", sorted(DOCUMENTED))
async def test_a_failing_receiver_gets_the_documented_attempts_at_the_documented_times(
    provider: str, receiver: Callable[[httpx.Request], httpx.Response]
) -> None:
    policy, attempts, gaps = DOCUMENTED[provider]
    clock = ManualClock()
    hook = WebhookDispatcher(clock, transport=httpx.MockTransport(receiver))
    delivery = hook.send(surface=provider, url="https://hooks.example.com/h", body=b"{}", policy=policy, event="e")
    await drive(clock, lambda: delivery.state != "pending", 0.5)
    assert delivery.state == "failed"
    assert len(delivery.attempts) == attempts
    assert [round(b.at - a.at, 1) for a, b in itertools.pairwise(delivery.attempts)] == gaps
    assert all(attempt.error or (attempt.status or 0) >= 500 for attempt in delivery.attempts)
    await hook.aclose()


def test_runware_retries_until_a_2xx_with_doubling_delays_capped_at_8_s() -> None:
    """Runware: "retried until 2xx (250 ms doubling, cap 8 s)"; the emulator bounds the attempts."""
    assert isinstance(RUNWARE, RetryPolicy)
    assert (RUNWARE.initial_delay, RUNWARE.multiplier, RUNWARE.max_delay) == (0.25, 2.0, 8.0)
    assert RUNWARE.max_attempts >= 10
