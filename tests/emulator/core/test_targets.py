"""Callback targets: production's rule (HTTPS, no internal hosts) warns when lenient, refuses when strict."""

from __future__ import annotations

import socket

import httpx
import pytest

from emulator.core.clock import ManualClock
from emulator.core.targets import TargetPolicy
from emulator.core.webhooks import RetryPolicy, WebhookDispatcher

BAD = {
    "http://example.com/hook": {"scheme"},
    "https://127.1/hook": {"internal"},
    "https://0x7f000001/hook": {"internal"},
    "https://metadata.google.internal/computeMetadata": {"internal"},
    "http://[::ffff:127.0.0.1]:9000/h": {"scheme", "internal"},
    "https:///nohost": {"malformed"},
}


@pytest.mark.parametrize(("url", "kinds"), BAD.items())
def test_production_objects_to_plain_http_and_internal_targets(url: str, kinds: set[str]) -> None:
    assert {problem.kind for problem in TargetPolicy().problems(url)} == kinds


def test_lenient_mode_serves_with_a_warning_and_strict_mode_refuses() -> None:
    lenient, strict = TargetPolicy(strict=False), TargetPolicy(strict=True)
    url = "http://127.0.0.1:9000/hook"
    assert lenient.refused(url) == [] and len(lenient.warnings(url)) == 2
    assert "production refuses it" in lenient.warnings(url)[0]
    assert [problem.kind for problem in strict.refused(url)] == ["scheme", "internal"] and strict.warnings(url) == []


def test_a_public_https_target_is_fine_in_both_modes() -> None:
    for policy in (TargetPolicy(), TargetPolicy(strict=True)):
        assert policy.problems("https://hooks.example.com/seedream") == []


def test_only_exempt_prefixes_escape_the_rule() -> None:
    policy = TargetPolicy(strict=True, exempt=["http://127.0.0.1:4100/hooks"])
    assert policy.refused("http://127.0.0.1:4100/hooks") == []
    assert policy.refused("http://127.0.0.1:4101/hooks") != []


def resolving_to(address: str) -> object:
    def getaddrinfo(host: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))]

    return getaddrinfo


async def test_strict_refuses_a_name_that_resolves_to_an_internal_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reliability audit: an /etc/hosts alias of 127.0.0.1 passed every strict check."""
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("127.0.0.1"))
    reason = await TargetPolicy(strict=True).resolved_problem("https://hooks.corp.example/x")
    assert reason is not None and "127.0.0.1" in reason
    assert await TargetPolicy(strict=False).resolved_problem("https://hooks.corp.example/x") is None
    exempt = TargetPolicy(strict=True, exempt=["https://hooks.corp.example/"])
    assert await exempt.resolved_problem("https://hooks.corp.example/x") is None


async def test_a_public_resolution_or_none_at_all_lets_the_delivery_go(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("93.184.215.14"))
    assert await TargetPolicy(strict=True).resolved_problem("https://hooks.example.com/x") is None

    def fails(*args: object, **kwargs: object) -> None:
        raise socket.gaierror("no network")

    monkeypatch.setattr(socket, "getaddrinfo", fails)
    assert await TargetPolicy(strict=True).resolved_problem("https://hooks.example.com/x") is None


async def test_a_refused_delivery_sends_nothing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to("10.1.2.3"))
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    dispatcher = WebhookDispatcher(
        ManualClock(),
        transport=httpx.MockTransport(record),
        guard=TargetPolicy(strict=True).resolved_problem,
    )
    delivery = dispatcher.send(
        surface="t", url="https://rebound.example/hook", body=b"{}", policy=RetryPolicy(max_attempts=3), event="e"
    )
    await dispatcher.drain()
    assert sent == [] and delivery.state == "refused" and "10.1.2.3" in (delivery.attempts[0].error or "")
    await dispatcher.aclose()
