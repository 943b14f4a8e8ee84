"""Webhooks: events and filter, throttling, retries of the terminal one, Standard Webhooks signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
import standardwebhooks
from replicate.webhook import Webhooks, WebhookSigningSecret

from contracts.replicate import rules
from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from tests.support import contract_errors, drive

from .conftest import AUTH, MODEL_PATH, Replicate, ReplicateFactory

HOOK = "https://hooks.example.com/replicate?ref=42"


def events(replicate: Replicate, prediction_id: str) -> list[str]:
    return [delivery.event for delivery in replicate.runtime.webhooks.deliveries(prediction_id)]


def bodies(replicate: Replicate) -> list[dict[str, Any]]:
    return [json.loads(request.content) for request in replicate.emulator.receiver.requests]


async def secret(replicate: Replicate) -> str:
    response = await replicate.get("webhooks/default/secret")
    assert response.status_code == 200
    assert contract_errors("replicate", "webhookSecret", response.json()) == []
    return response.json()["key"]


async def test_all_events_by_default_with_start_and_completed_always_sent(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K"}, webhook=HOOK)
    await replicate.runtime.settle()
    # Everything happens at one instant with timing=instant: logs and output fall inside the 500 ms throttle.
    assert events(replicate, body["id"]) == ["start", "completed"]
    start, completed = bodies(replicate)
    assert start["status"] == "starting" and start["output"] is None
    assert completed["status"] == "succeeded"
    for payload in (start, completed):
        assert contract_errors("replicate", "prediction", payload) == []
        assert payload["webhook"] == HOOK and payload["version"] == "hidden"
    assert [str(r.url) for r in replicate.emulator.receiver.requests] == [HOOK, HOOK]


async def test_completed_payload_is_the_prediction_as_get_returns_it(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["completed"])
    await replicate.runtime.settle()
    [completed] = bodies(replicate)
    assert completed == await replicate.prediction(body["id"])
    assert body["output"][0].startswith("data:"), "the sync reply inlined the file"
    assert completed["output"][0].startswith("http://testserver/files/tmp"), "webhooks carry file URLs, as production"


async def test_events_filter_limits_what_is_sent(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["output", "completed"])
    await replicate.runtime.settle()
    assert events(replicate, body["id"]) == ["output", "completed"]
    output, completed = bodies(replicate)
    assert output["output"] == completed["output"] and output["status"] == "succeeded"


async def test_an_empty_filter_sends_nothing(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=[])
    await replicate.runtime.settle()
    assert events(replicate, body["id"]) == []


async def test_output_and_logs_are_throttled_to_one_per_half_second(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    created = (
        await replicate.create({"size": "1K", "sequential_image_generation": "auto", "max_images": 6}, webhook=HOOK)
    ).json()
    await drive(clock, lambda: "completed" in events(replicate, created["id"]), step=0.05)
    await replicate.runtime.settle()
    deliveries = replicate.runtime.webhooks.deliveries(created["id"])
    kinds = [d.event for d in deliveries]
    assert kinds[0] == "start" and kinds[-1] == "completed"
    assert "logs" in kinds
    sent = [d.attempts[0].at for d in deliveries]
    throttle = rules.RULES["webhooks"]["throttleSeconds"]
    for previous, (kind, at) in zip(sent, list(zip(kinds, sent, strict=True))[1:], strict=False):
        if kind in ("logs", "output"):
            assert at - previous >= throttle - 0.051, (kinds, sent)
    logs = [json.loads(r.content)["logs"] for r in replicate.emulator.receiver.requests]
    assert all(later.startswith(earlier) for earlier, later in zip(logs, logs[1:], strict=False))


async def test_fast_lifecycles_send_only_start_and_completed(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="fast")
    created = (
        await replicate.create({"size": "1K", "sequential_image_generation": "auto", "max_images": 5}, webhook=HOOK)
    ).json()
    await drive(clock, lambda: "completed" in events(replicate, created["id"]), step=0.01)
    assert events(replicate, created["id"]) == ["start", "completed"]


async def test_signatures_verify_with_the_official_client_and_standardwebhooks(replicate: Replicate) -> None:
    await replicate.run({"size": "1K"}, webhook=HOOK)
    await replicate.runtime.settle()
    key = await secret(replicate)
    verifier = standardwebhooks.Webhook(key)
    ids = set()
    for request in replicate.emulator.receiver.requests:
        headers = {name: request.headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
        assert request.headers["content-type"] == "application/json"
        assert headers["webhook-signature"].startswith("v1,")
        Webhooks.validate(
            headers=headers, body=request.content.decode(), secret=WebhookSigningSecret(key=key), tolerance=300
        )
        assert verifier.verify(request.content, headers)["id"]
        ids.add(headers["webhook-id"])
    assert len(ids) == 2, "each webhook has its own id"


async def test_a_tampered_body_does_not_verify(replicate: Replicate) -> None:
    await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["completed"])
    await replicate.runtime.settle()
    [request] = replicate.emulator.receiver.requests
    headers = dict(request.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(await secret(replicate)).verify(request.content + b" ", headers)


def test_the_signing_scheme_matches_the_published_test_vector() -> None:
    from emulator.core.runtime import Runtime
    from emulator.core.webhooks import Delivery
    from emulator.providers.replicate.models import ReplicateService

    # The clock stands at the vector's timestamp.
    runtime = Runtime.create(seed=0, clock=ManualClock(1614265330.0))
    service = ReplicateService(runtime, webhook_secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    delivery = Delivery(
        "d", "replicate", "u", "POST", "completed", None, 0, {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek"}
    )
    headers = service.webhooks.sign(delivery, b'{"test": 2432232314}')
    assert headers == {
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


async def test_terminal_webhook_is_retried_with_backoff_and_the_same_id(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock)
    replicate.emulator.receiver.statuses = [500, 503, 404, 200]
    body = await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["completed"])
    [delivery] = replicate.runtime.webhooks.deliveries(body["id"])
    await drive(clock, lambda: delivery.state != "pending", step=0.5)
    assert delivery.state == "delivered"
    assert [a.status for a in delivery.attempts] == [500, 503, 404, 200]
    gaps = [later.at - earlier.at for earlier, later in zip(delivery.attempts, delivery.attempts[1:], strict=False)]
    assert gaps == pytest.approx([1, 2, 4], abs=0.5)
    requests = replicate.emulator.receiver.requests
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    key = base64.b64decode((await secret(replicate)).split("_", 1)[1])
    timestamps = []
    for request in requests:
        signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.content
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        assert request.headers["webhook-signature"] == f"v1,{expected}"
        timestamps.append(int(request.headers["webhook-timestamp"]))
    assert timestamps == sorted(timestamps) and timestamps[-1] > timestamps[0], "each attempt is signed afresh"


async def test_terminal_retries_stop_about_a_minute_after_completion(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock)
    replicate.emulator.receiver.statuses = [500] * 20
    body = await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["completed"])
    [delivery] = replicate.runtime.webhooks.deliveries(body["id"])
    await drive(clock, lambda: delivery.state != "pending", step=1.0)
    assert delivery.state == "failed"
    policy = rules.RULES["webhooks"]["terminal"]
    assert len(delivery.attempts) == policy["maxAttempts"] == 7
    assert 55 <= delivery.attempts[-1].at - delivery.attempts[0].at <= 70


async def test_intermediate_webhooks_are_never_retried(replicate: Replicate) -> None:
    replicate.emulator.receiver.statuses = [500]
    body = await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["start"])
    await replicate.runtime.settle()
    [delivery] = replicate.runtime.webhooks.deliveries(body["id"])
    assert delivery.state == "failed" and len(delivery.attempts) == 1


async def test_connection_errors_on_the_terminal_webhook_are_retried(clock: ManualClock) -> None:
    calls: list[httpx.Request] = []

    def refuse_once(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused")
        return httpx.Response(204)

    app = create_app(
        Settings(timing="instant", seed=1, provider="replicate"),
        clock=clock,
        webhook_transport=httpx.MockTransport(refuse_once),
    )
    runtime = app.state.emulator.runtime
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        body = {"input": {"prompt": "x", "size": "1K"}, "webhook": HOOK, "webhook_events_filter": ["completed"]}
        created = (await client.post(MODEL_PATH, json=body, headers={**AUTH, "Prefer": "wait"})).json()
        [delivery] = runtime.webhooks.deliveries(created["id"])
        await drive(clock, lambda: delivery.state != "pending", step=0.5)
    await runtime.aclose()
    assert delivery.state == "delivered"
    assert "ConnectError" in (delivery.attempts[0].error or "")
    assert [a.status for a in delivery.attempts] == [None, 204]
    assert calls[0].headers["webhook-id"] == calls[1].headers["webhook-id"]


async def test_failed_and_canceled_predictions_send_completed(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    failed = (
        await replicate.create({"image_input": ["ftp://x/y.png"]}, webhook=HOOK, webhook_events_filter=["completed"])
    ).json()
    canceled = (await replicate.create({"size": "1K"}, webhook=HOOK, webhook_events_filter=["completed"])).json()
    await replicate.cancel(canceled["id"])
    await drive(clock, lambda: bool(events(replicate, failed["id"])), step=0.1)
    await replicate.runtime.settle()
    statuses = sorted(json.loads(r.content)["status"] for r in replicate.emulator.receiver.requests)
    assert statuses == ["canceled", "failed"]


async def test_legacy_webhook_completed_gets_only_the_terminal_prediction(replicate: Replicate) -> None:
    legacy = "https://hooks.example.com/done"
    body = await replicate.run({"size": "1K"}, webhook_completed=legacy)
    await replicate.runtime.settle()
    assert events(replicate, body["id"]) == ["completed"]
    [request] = replicate.emulator.receiver.requests
    assert str(request.url) == legacy and json.loads(request.content)["status"] == "succeeded"


async def test_webhook_urls_in_tls_mode_carry_https_file_urls(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(public_url="https://emulator.example")
    await replicate.run({"size": "1K"}, webhook=HOOK, webhook_events_filter=["completed"])
    await replicate.runtime.settle()
    [completed] = bodies(replicate)
    assert completed["output"][0].startswith("https://emulator.example/files/tmp")


@pytest.mark.parametrize("webhook", ["mailto:someone@example.com", "https:///nohost", "ftp://example.com/hook"])
async def test_undeliverable_webhooks_are_422(replicate: Replicate, webhook: str) -> None:
    response = await replicate.create(webhook=webhook)
    assert response.status_code == 422
    fields = response.json()["invalid_fields"]
    assert fields[0]["field"] == "webhook" and fields[0]["type"] in ("invalid_webhook", "format")


@pytest.mark.parametrize(
    ("webhook", "description"),
    [
        ("http://hooks.example.com/h", "webhook must be an HTTPS URL"),
        ("https://127.0.0.1:9000/h", "webhook must not point to an internal address (127.0.0.1)"),
        ("https://localhost/h", "webhook must not point to an internal address (localhost)"),
        ("https://10.0.0.5/h", "webhook must not point to an internal address (10.0.0.5)"),
        ("https://0x7f000001/h", "webhook must not point to an internal address (0x7f000001)"),
        (
            "https://metadata.google.internal/h",
            "webhook must not point to an internal address (metadata.google.internal)",
        ),
    ],
)
async def test_strict_mode_requires_https_on_a_public_host(
    make_replicate: ReplicateFactory, webhook: str, description: str
) -> None:
    replicate = await make_replicate(strict=True)
    response = await replicate.create(webhook=webhook)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalid_fields"] == [
        {"type": "invalid_webhook", "field": "webhook", "description": description}
    ]
    assert response.json()["detail"] == f"- webhook: {description}\n"
    assert (await replicate.create(webhook=HOOK)).status_code == 201


async def test_strict_mode_names_both_problems_and_both_fields(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(strict=True)
    response = await replicate.create(webhook="http://127.1/h", webhook_completed="http://192.168.0.4/done")
    assert response.status_code == 422
    fields = [(f["field"], f["description"]) for f in response.json()["invalid_fields"]]
    assert fields == [
        ("webhook", "webhook must be an HTTPS URL"),
        ("webhook", "webhook must not point to an internal address (127.1)"),
        ("webhook_completed", "webhook_completed must be an HTTPS URL"),
        ("webhook_completed", "webhook_completed must not point to an internal address (192.168.0.4)"),
    ]
    assert (await replicate.get("predictions")).json()["results"] == [], "nothing was created"


async def test_the_target_policy_is_read_at_request_time(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate()
    assert (await replicate.create(webhook="http://127.0.0.1:9/hook")).status_code == 201
    replicate.runtime.targets.strict = True
    assert (await replicate.create(webhook="http://127.0.0.1:9/hook")).status_code == 422
    replicate.runtime.targets.exempt.append("http://127.0.0.1:9/")
    assert (await replicate.create(webhook="http://127.0.0.1:9/hook")).status_code == 201
    assert replicate.entries()[-1].warnings == []


async def test_plain_http_webhooks_work_outside_strict_mode_with_a_warning(replicate: Replicate) -> None:
    await replicate.run({"size": "1K"}, webhook="http://127.0.0.1:9/hook", webhook_events_filter=["completed"])
    await replicate.runtime.settle()
    assert str(replicate.emulator.receiver.requests[0].url) == "http://127.0.0.1:9/hook"
    entry = replicate.entries()[0]
    scheme = "webhook http://127.0.0.1:9/hook is not HTTPS: Replicate accepts only HTTPS webhook URLs"
    internal = "webhook http://127.0.0.1:9/hook targets the internal host 127.0.0.1: Replicate's servers cannot deliver"
    lenient = "served here because --strict is off"
    assert entry.warnings == [f"{scheme} ({lenient})", f"{internal} to it ({lenient})"]


async def test_legacy_webhook_completed_targets_follow_the_same_rule(replicate: Replicate) -> None:
    await replicate.run({"size": "1K"}, webhook_completed="http://hooks.example.com/done")
    [entry] = replicate.entries()
    assert any(w.startswith("webhook_completed http://hooks.example.com/done is not HTTPS") for w in entry.warnings)


async def test_https_webhooks_on_public_hosts_leave_no_warning(replicate: Replicate) -> None:
    await replicate.run({"size": "1K"}, webhook=HOOK)
    [entry] = replicate.entries()
    assert entry.warnings == []


async def test_the_secret_is_stable_per_seed_and_configurable(make_replicate: ReplicateFactory) -> None:
    first = await secret(await make_replicate(seed=5))
    again = await secret(await make_replicate(seed=5))
    other = await secret(await make_replicate(seed=6))
    assert first == again != other
    chosen = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert await secret(await make_replicate(replicate_webhook_secret=chosen)) == chosen


async def test_the_secret_needs_auth(replicate: Replicate) -> None:
    response = await replicate.client.get("/v1/webhooks/default/secret")
    assert response.status_code == 401
    assert (await replicate.client.get("/v1/webhooks/default/secret", headers=AUTH)).status_code == 200
