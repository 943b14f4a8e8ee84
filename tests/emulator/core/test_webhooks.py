import random

import httpx
import pytest

from emulator.core.clock import ManualClock
from emulator.core.webhooks import RetryPolicy, WebhookDispatcher
from tests.conftest import Receiver
from tests.support import drive


def dispatcher(clock: ManualClock, receiver: Receiver) -> WebhookDispatcher:
    return WebhookDispatcher(clock, transport=httpx.MockTransport(receiver))


async def run_until_done(clock: ManualClock, hook: WebhookDispatcher, step: float = 0.05) -> None:
    await drive(clock, lambda: all(d.state != "pending" for d in hook.deliveries()), step)


async def test_a_2xx_answer_delivers_on_the_first_attempt(clock: ManualClock) -> None:
    receiver = Receiver()
    hook = dispatcher(clock, receiver)
    delivery = hook.send(
        surface="test",
        url="https://hooks.example/a",
        body=b'{"x":1}',
        policy=RetryPolicy(),
        event="done",
        headers={"Content-Type": "application/json"},
    )
    await run_until_done(clock, hook)
    assert delivery.state == "delivered"
    assert [a.status for a in delivery.attempts] == [200]
    assert receiver.requests[0].content == b'{"x":1}'
    assert receiver.requests[0].headers["content-type"] == "application/json"
    await hook.aclose()


async def test_failed_attempts_are_retried_on_the_policy_schedule(clock: ManualClock) -> None:
    receiver = Receiver(statuses=[500, 503, 404, 200])
    hook = dispatcher(clock, receiver)
    policy = RetryPolicy(max_attempts=10, initial_delay=0.25, multiplier=2, max_delay=8)
    delivery = hook.send(surface="test", url="https://hooks.example/a", body=b"{}", policy=policy, event="done")
    await run_until_done(clock, hook, step=0.25)
    assert delivery.state == "delivered"
    assert [a.status for a in delivery.attempts] == [500, 503, 404, 200]
    gaps = [round(b.at - a.at, 2) for a, b in zip(delivery.attempts, delivery.attempts[1:], strict=False)]
    assert gaps == [0.25, 0.5, 1.0]
    await hook.aclose()


async def test_delivery_gives_up_after_the_last_attempt(clock: ManualClock) -> None:
    receiver = Receiver(statuses=[500] * 10)
    hook = dispatcher(clock, receiver)
    policy = RetryPolicy(max_attempts=4, schedule=(1, 2, 4))
    delivery = hook.send(surface="test", url="https://hooks.example/a", body=b"{}", policy=policy, event="done")
    await run_until_done(clock, hook, step=0.5)
    assert delivery.state == "failed"
    assert len(delivery.attempts) == 4
    gaps = [round(b.at - a.at, 2) for a, b in zip(delivery.attempts, delivery.attempts[1:], strict=False)]
    assert gaps == [1, 2, 4]
    await hook.aclose()


async def test_network_errors_are_logged_and_retried(clock: ManualClock) -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(204)

    hook = WebhookDispatcher(clock, transport=httpx.MockTransport(flaky))
    delivery = hook.send(
        surface="test",
        url="https://hooks.example/a",
        body=b"{}",
        policy=RetryPolicy(max_attempts=2, initial_delay=1),
        event="done",
    )
    await run_until_done(clock, hook, step=0.5)
    assert delivery.state == "delivered"
    assert delivery.attempts[0].error and "ConnectError" in delivery.attempts[0].error
    assert delivery.attempts[1].status == 204
    await hook.aclose()


async def test_signer_headers_are_computed_for_each_attempt(clock: ManualClock) -> None:
    receiver = Receiver(statuses=[500, 200])
    hook = dispatcher(clock, receiver)
    signatures = iter(["sig-1", "sig-2"])
    hook.send(
        surface="test",
        url="https://hooks.example/a",
        body=b"{}",
        event="done",
        policy=RetryPolicy(max_attempts=2, initial_delay=1),
        signer=lambda delivery, body: {"x-sig": next(signatures)},
    )
    await run_until_done(clock, hook, step=0.5)
    assert [r.headers["x-sig"] for r in receiver.requests] == ["sig-1", "sig-2"]
    await hook.aclose()


@pytest.mark.parametrize("retry, expected", [(1, 0.25), (2, 0.5), (5, 4.0), (6, 8.0), (9, 8.0)])
def test_exponential_delay_is_capped(retry: int, expected: float) -> None:
    policy = RetryPolicy(initial_delay=0.25, multiplier=2, max_delay=8)
    assert policy.delay(retry, random.Random(0)) == expected


def test_jitter_spreads_delays_within_bounds() -> None:
    policy = RetryPolicy(initial_delay=1, jitter=0.2)
    rng = random.Random(3)
    delays = [policy.delay(1, rng) for _ in range(200)]
    assert min(delays) >= 0.8 and max(delays) <= 1.2
    assert len(set(delays)) > 100


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/hook", "http://exa mple.com/", "http://a\x00b/"])
async def test_unusable_urls_fail_each_attempt_with_a_recorded_error(clock: ManualClock, url: str) -> None:
    hook = WebhookDispatcher(clock)
    delivery = hook.send(
        surface="test", url=url, body=b"{}", policy=RetryPolicy(max_attempts=2, initial_delay=1), event="done"
    )
    await run_until_done(clock, hook, step=0.5)
    assert delivery.state == "failed"
    assert [bool(a.error) for a in delivery.attempts] == [True, True]
    await hook.aclose()


async def test_delivery_faults_drop_duplicate_and_delay(clock: ManualClock) -> None:
    from emulator.core.faults import Context, FaultEngine

    faults = FaultEngine(seed=1)
    receiver = Receiver()
    hook = WebhookDispatcher(clock, transport=httpx.MockTransport(receiver), faults=faults)
    context = Context("test", job="j1")
    faults.add({"action": "webhook", "webhook": "drop", "times": 1})
    dropped = hook.send(
        surface="test", url="https://h.example/", body=b"1", policy=RetryPolicy(), event="e", context=context
    )
    assert dropped.state == "dropped"
    faults.reset()
    faults.add({"action": "webhook", "webhook": "duplicate", "times": 1})
    hook.send(surface="test", url="https://h.example/", body=b"2", policy=RetryPolicy(), event="e", context=context)
    faults.reset()
    faults.add({"action": "webhook", "webhook": "delay", "seconds": 10, "times": 1})
    delayed = hook.send(
        surface="test", url="https://h.example/", body=b"3", policy=RetryPolicy(), event="e", context=context
    )
    start = clock.now()
    await run_until_done(clock, hook, step=1)
    assert [r.content for r in receiver.requests] == [b"2", b"2", b"3"]
    assert delayed.attempts[0].at - start >= 10
    await hook.aclose()


async def test_reordered_delivery_waits_for_the_next_one_of_its_job(clock: ManualClock) -> None:
    from emulator.core.faults import Context, FaultEngine

    faults = FaultEngine(seed=1)
    receiver = Receiver()
    hook = WebhookDispatcher(clock, transport=httpx.MockTransport(receiver), faults=faults)
    faults.add({"action": "webhook", "webhook": "reorder", "times": 1})
    context = Context("test", job="j1")
    hook.send(surface="test", url="https://h.example/", body=b"first", policy=RetryPolicy(), event="e", context=context)
    hook.send(
        surface="test", url="https://h.example/", body=b"second", policy=RetryPolicy(), event="e", context=context
    )
    await run_until_done(clock, hook, step=1)
    assert [r.content for r in receiver.requests] == [b"second", b"first"]
    await hook.aclose()


async def test_a_held_delivery_goes_out_alone_after_its_hold(clock: ManualClock) -> None:
    from emulator.core.faults import Context, FaultEngine

    faults = FaultEngine(seed=1)
    receiver = Receiver()
    hook = WebhookDispatcher(clock, transport=httpx.MockTransport(receiver), faults=faults)
    faults.add({"action": "webhook", "webhook": "reorder"})
    start = clock.now()
    held = hook.send(
        surface="test",
        url="https://h.example/",
        body=b"only",
        policy=RetryPolicy(),
        event="e",
        context=Context("test", job="j"),
    )
    await run_until_done(clock, hook, step=1)
    assert held.state == "delivered" and held.attempts[0].at - start >= 30
    await hook.aclose()


async def test_a_redirect_is_a_failed_attempt_never_followed() -> None:
    """A receiver answering 307 to an internal address cannot turn a webhook into a request to that address."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    clock = ManualClock()
    hook = WebhookDispatcher(clock, transport=httpx.MockTransport(answer))
    delivery = hook.send(
        surface="t", url="https://hooks.example.com/h", body=b"{}", policy=RetryPolicy(max_attempts=1), event="e"
    )
    await hook.drain()
    assert seen == ["https://hooks.example.com/h"]
    assert delivery.state == "failed" and delivery.attempts[0].status == 307
    await hook.aclose()
