"""callback_url: when it fires, what it carries, its retry schedule on the injectable clock, strict vs default rules."""

from __future__ import annotations

import json

import httpx
import pytest

from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from emulator.core.webhooks import Delivery
from emulator.providers.evolink.models import CALLBACK_POLICY
from tests.support import contract_errors, drive

from .conftest import EvoLink, EvoLinkFactory, auth, body, error_of

HOOK = "https://hooks.example.com/evolink/done"


async def only_delivery(evolink: EvoLink, task_id: str) -> Delivery:
    [delivery] = evolink.runtime.webhooks.deliveries(task_id)
    return delivery


async def test_completed_task_posts_the_query_body(evolink: EvoLink) -> None:
    task = await evolink.created(callback_url=HOOK, n=2, prompt="generate 2 images")
    await evolink.runtime.settle()
    [request] = evolink.receiver.requests
    assert (request.method, str(request.url)) == ("POST", HOOK)
    assert request.headers["content-type"] == "application/json"
    sent = json.loads(request.content)
    assert sent == (await evolink.query(task["id"])).json()
    assert sent["status"] == "completed" and len(sent["results"]) == 2
    assert contract_errors("evolink", "task", sent) == []
    assert (await only_delivery(evolink, task["id"])).state == "delivered"


async def test_failed_task_posts_its_error(evolink: EvoLink) -> None:
    task = await evolink.created(callback_url=HOOK, image_urls=["https://cdn.invalid/x.png"])
    await evolink.runtime.settle()
    [request] = evolink.receiver.requests
    sent = json.loads(request.content)
    assert sent["status"] == "failed" and sent["error"]["code"] == "image_processing_error"
    assert sent == (await evolink.query(task["id"])).json()


async def test_cancelled_task_posts_too(clocked: EvoLink, clock: ManualClock) -> None:
    task = await clocked.created(callback_url=HOOK)
    clocked.runtime.jobs.cancel(task["id"])
    await drive(clock, lambda: bool(clocked.receiver.requests), step=0.5, limit=5)
    [request] = clocked.receiver.requests
    assert json.loads(request.content)["status"] == "cancelled"


async def test_no_callback_before_the_task_ends(clocked: EvoLink, clock: ManualClock) -> None:
    task = await clocked.created(callback_url=HOOK)
    clock.advance(1.0)
    assert (await clocked.query(task["id"])).json()["status"] == "processing"
    assert clocked.receiver.requests == []
    await drive(clock, lambda: bool(clocked.receiver.requests), step=0.5, limit=60)
    assert json.loads(clocked.receiver.requests[0].content)["status"] == "completed"


async def test_no_callback_without_callback_url(evolink: EvoLink) -> None:
    await evolink.created()
    await evolink.runtime.settle()
    assert evolink.receiver.requests == [] and evolink.runtime.webhooks.deliveries() == []


async def test_retries_come_after_1_2_and_4_seconds_then_stop(make_evolink: EvoLinkFactory, clock: ManualClock) -> None:
    evolink = await make_evolink(clock=clock)
    evolink.receiver.statuses = [500] * 10
    task = await evolink.created(callback_url=HOOK)
    delivery = await only_delivery(evolink, task["id"])
    await drive(clock, lambda: delivery.state != "pending", step=0.5, limit=60)
    times = [attempt.at for attempt in delivery.attempts]
    assert [moment - times[0] for moment in times] == [0, 1, 3, 7]
    assert [attempt.status for attempt in delivery.attempts] == [500] * 4
    assert delivery.state == "failed"
    clock.advance(120)
    await drive(clock, lambda: False, step=5, limit=30)
    assert len(evolink.receiver.requests) == 4


@pytest.mark.parametrize("failures", [1, 2, 3])
async def test_a_2xx_ends_the_retries(make_evolink: EvoLinkFactory, clock: ManualClock, failures: int) -> None:
    evolink = await make_evolink(clock=clock)
    evolink.receiver.statuses = [503] * failures + [200]
    task = await evolink.created(callback_url=HOOK)
    delivery = await only_delivery(evolink, task["id"])
    await drive(clock, lambda: delivery.state != "pending", step=0.5, limit=60)
    assert delivery.state == "delivered" and len(delivery.attempts) == failures + 1
    assert delivery.attempts[-1].at - delivery.attempts[0].at == [1, 3, 7][failures - 1]


@pytest.mark.parametrize(
    "status, retried",
    [
        (200, False),
        (201, False),
        (202, False),
        (204, False),
        (299, False),
        (301, True),
        (400, True),
        (404, True),
        (429, True),
        (500, True),
    ],
)
async def test_any_2xx_is_success_and_anything_else_is_retried(
    make_evolink: EvoLinkFactory, clock: ManualClock, status: int, retried: bool
) -> None:
    evolink = await make_evolink(clock=clock)
    evolink.receiver.statuses = [status]
    task = await evolink.created(callback_url=HOOK)
    delivery = await only_delivery(evolink, task["id"])
    await drive(clock, lambda: delivery.state != "pending", step=0.5, limit=60)
    assert len(delivery.attempts) == (2 if retried else 1)


async def test_each_attempt_has_a_10_second_timeout_and_timeouts_are_retried(clock: ManualClock) -> None:
    seen: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) < 3:
            raise httpx.ReadTimeout("the receiver did not answer in time", request=request)
        return httpx.Response(200)

    app = create_app(Settings(timing="instant", seed=1), clock=clock, webhook_transport=httpx.MockTransport(hook))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        task = (
            await client.post("/evolink/v1/images/generations", json=body(callback_url=HOOK), headers=auth())
        ).json()
        runtime = app.state.emulator.runtime
        [delivery] = runtime.webhooks.deliveries(task["id"])
        await drive(clock, lambda: delivery.state != "pending", step=0.5, limit=60)
    await runtime.aclose()
    assert delivery.state == "delivered"
    assert [attempt.error is not None and "ReadTimeout" in attempt.error for attempt in delivery.attempts] == [
        True,
        True,
        False,
    ]
    assert {request.extensions["timeout"]["read"] for request in seen} == {10.0}
    assert CALLBACK_POLICY.max_attempts == 4 and CALLBACK_POLICY.jitter == 0


LOCAL_TARGETS = [
    "http://127.0.0.1:8080/hook",
    "https://127.0.0.1/hook",
    "https://localhost/hook",
    "https://api.localhost/hook",
    "https://10.1.2.3/hook",
    "https://172.16.0.1/hook",
    "https://172.31.255.255/hook",
    "https://192.168.1.20/hook",
    "https://169.254.169.254/latest",
    "https://0.0.0.0/hook",
    "https://[::1]/hook",
    "https://[fd00::5]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://2130706433/hook",
]
PUBLIC_TARGETS = [
    "https://hooks.example.com/x",
    "https://172.32.0.1/x",
    "https://8.8.8.8/x",
    "https://[2606:4700:4700::1111]:8443/x",
    "https://my-localhost.com/x",
]


@pytest.mark.parametrize("url", LOCAL_TARGETS)
async def test_default_mode_accepts_local_targets_with_a_fidelity_warning(evolink: EvoLink, url: str) -> None:
    assert (await evolink.create(body(callback_url=url))).status_code == 200
    [entry] = evolink.entries()
    assert entry.valid and entry.warnings
    assert all("served here because --strict is off" in warning for warning in entry.warnings)
    await evolink.runtime.settle()
    assert [str(request.url) for request in evolink.receiver.requests] == [url]


@pytest.mark.parametrize("url", LOCAL_TARGETS)
async def test_strict_mode_refuses_local_targets(strict: EvoLink, url: str) -> None:
    response = await strict.create(body(callback_url=url))
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["param"]) == (400, "callback_url")
    assert "https://" in error["message"] or "internal address" in error["message"]
    await strict.runtime.settle()
    assert strict.receiver.requests == []


@pytest.mark.parametrize("url", PUBLIC_TARGETS)
@pytest.mark.parametrize("mode", ["default", "strict"])
async def test_public_https_targets_pass_without_warnings(make_evolink: EvoLinkFactory, url: str, mode: str) -> None:
    evolink = await make_evolink(strict=mode == "strict")
    assert (await evolink.create(body(callback_url=url))).status_code == 200
    [entry] = evolink.entries()
    assert entry.warnings == []


async def test_plain_http_public_target_is_warned_by_default_and_refused_when_strict(
    make_evolink: EvoLinkFactory,
) -> None:
    lenient = await make_evolink()
    assert (await lenient.create(body(callback_url="http://hooks.example.com/x"))).status_code == 200
    [warning] = lenient.entries()[0].warnings
    assert "is not HTTPS" in warning
    strict = await make_evolink(strict=True)
    error = error_of(await strict.create(body(callback_url="http://hooks.example.com/x")))
    assert error["message"] == "Invalid request parameters: 'callback_url' must use https://; got http://."


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/x", "ws://hooks.example.com/x", "file://host/etc/passwd", "https://:443/x"]
)
@pytest.mark.parametrize("mode", ["default", "strict"])
async def test_other_schemes_and_malformed_urls_are_refused_in_both_modes(
    make_evolink: EvoLinkFactory, url: str, mode: str
) -> None:
    evolink = await make_evolink(strict=mode == "strict")
    response = await evolink.create(body(callback_url=url))
    assert response.status_code == 400 and error_of(response)["param"] == "callback_url"


@pytest.mark.parametrize("mode", ["default", "strict"])
async def test_2049_characters_are_refused_in_both_modes(make_evolink: EvoLinkFactory, mode: str) -> None:
    evolink = await make_evolink(strict=mode == "strict")
    url = HOOK + "?" + "x" * (2049 - len(HOOK) - 1)
    assert len(url) == 2049
    assert (await evolink.create(body(callback_url=url))).status_code == 400
    assert (await evolink.create(body(callback_url=url[:-1]))).status_code == 200
