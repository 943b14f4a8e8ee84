"""ReplicateClient against the emulator: outputs as data URIs or URLs, problems, cancel, files, webhooks."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Unpack

import httpx
import pytest
import standardwebhooks

from clients import AuthenticationError, Canceled, InvalidRequest, InvalidSignature
from clients.replicate import AsyncReplicateClient, ReplicateClient, ReplicateProvider, verify_webhook
from contracts.counts import ask
from emulator import read_metadata
from tests.clients.support import FAST, Live, SyncOptions, fast
from tests.sdk.live import LiveEmulator, WebhookSink
from tests.support import image_bytes

# The Standard Webhooks test vector from replicate-python 1.0.7's tests (provider sheet, 5.6).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}
VECTOR_BODY = b'{"test": 2432232314}'


def client(live: Live, key: str = "r8_test", **overrides: Unpack[SyncOptions]) -> ReplicateClient:
    return ReplicateClient(key, base_url=live.url("replicate"), **fast(**overrides))


@pytest.fixture(scope="module")
def inline() -> Iterator[Live]:
    """An emulator that inlines outputs everywhere (`replicate_file_output = "data-uri"`)."""
    with LiveEmulator(timing="instant", replicate_file_output="data-uri") as server:
        yield Live(server)


def test_polled_outputs_are_file_urls_as_in_production(live: Live) -> None:
    with client(live) as replicate:
        images = replicate.generate({"input": {"prompt": "a fox", "size": "1K", "aspect_ratio": "16:9"}})
    [image] = images
    assert image.url and image.url.startswith(live.server.base + "/files/tmp") and image.data is None
    data = image.content()
    assert (read_metadata(data)["width"], read_metadata(data)["height"]) == (1312, 736)


def test_data_uri_outputs_are_decoded_into_data(inline: Live) -> None:
    with client(inline) as replicate:
        images = replicate.generate({"input": {"prompt": "a fox", "size": "1K", "aspect_ratio": "16:9"}})
    [image] = images
    assert image.url is None and image.data is not None
    assert (read_metadata(image.data)["width"], read_metadata(image.data)["height"]) == (1312, 736)


async def test_url_outputs_are_left_as_urls(other: Live) -> None:
    async with AsyncReplicateClient("good-key", base_url=other.url("replicate"), **FAST) as replicate:
        images = await replicate.generate(
            {
                "input": {
                    "prompt": ask("a fox", 2),
                    "size": "1K",
                    "sequential_image_generation": "auto",
                    "max_images": 3,
                }
            }
        )
    assert all(image.url and image.data is None for image in images) and len(images) == 2
    assert {read_metadata(await image.acontent())["job_id"] for image in images} == {
        other.journal("replicate")[0].ids[0]
    }


def test_a_version_in_the_body_uses_the_predictions_endpoint(live: Live) -> None:
    with client(live) as replicate:
        assert replicate.generate({"version": "bytedance/seedream-4", "input": {"prompt": "a", "size": "1K"}})
    assert live.journal("replicate")[0].route == "POST /v1/predictions"


def test_invalid_input_is_invalid_request_with_the_problem_title_and_detail(live: Live) -> None:
    with client(live) as replicate, pytest.raises(InvalidRequest) as caught:
        replicate.generate({"input": {"size": "9K"}})
    error = caught.value
    assert (error.code, error.status) == ("Input validation failed", 422)
    assert "prompt is required" in error.message and {f["field"] for f in error.body["invalid_fields"]} == {
        "input",
        "input.size",
    }


def test_an_unknown_token_is_authentication_error(other: Live) -> None:
    with client(other, "r8_wrong") as replicate, pytest.raises(AuthenticationError) as caught:
        replicate.generate({"input": {"prompt": "a"}})
    assert (caught.value.code, caught.value.status) == ("Unauthenticated", 401)


def test_retry_after_falls_back_to_the_problem_body() -> None:
    provider = ReplicateProvider("r8_test")
    assert provider.retry_after(httpx.Response(429, json={"retry_after": 5})) == 5.0
    assert provider.retry_after(httpx.Response(429, headers={"Retry-After": "2"}, json={"retry_after": 5})) == 2.0
    assert provider.retry_after(httpx.Response(429, text="busy")) is None


def test_cancel_a_running_prediction_and_then_wait_raises_canceled(live: Live) -> None:
    with client(live) as replicate:
        job_id = replicate.start({"input": {"prompt": "a [[emulator:stall=running]]"}})
        assert replicate.cancel(job_id) is True
        with pytest.raises(Canceled) as caught:
            replicate.wait(job_id)
        assert caught.value.code == "canceled"
        finished = replicate.start({"input": {"prompt": "b"}})
        replicate.wait(finished)
        assert replicate.cancel(finished) is False


async def test_uploaded_files_and_local_bytes_become_image_inputs(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "ref.png"
    path.write_bytes(image_bytes())
    async with AsyncReplicateClient("r8_test", base_url=live.url("replicate"), **FAST) as replicate:
        url = await replicate.upload(path, metadata={"purpose": "reference"})
        [image] = await replicate.generate(
            {"input": {"prompt": "a", "size": "1K", "image_input": [url, image_bytes()]}}
        )
    assert "/v1/files/" in url and read_metadata(await image.acontent())["reference_count"] == 2
    assert live.invalid("replicate") == []


def test_the_published_test_vector_verifies() -> None:
    assert verify_webhook(VECTOR_HEADERS, VECTOR_BODY, VECTOR_SECRET, now=1614265330) == {"test": 2432232314}
    upper = {name.upper(): value for name, value in VECTOR_HEADERS.items()}
    assert verify_webhook(upper, VECTOR_BODY.decode(), VECTOR_SECRET, now=1614265330 + 300)


@pytest.mark.parametrize(
    ("headers", "body", "secret", "now", "reason"),
    [
        (VECTOR_HEADERS, b'{"test": 2432232315}', VECTOR_SECRET, 1614265330, "no v1 signature"),
        (
            VECTOR_HEADERS,
            VECTOR_BODY,
            "whsec_" + base64.b64encode(b"another key").decode(),
            1614265330,
            "no v1 signature",
        ),
        (VECTOR_HEADERS, VECTOR_BODY, VECTOR_SECRET, 1614265330 + 301, "old"),
        (VECTOR_HEADERS, VECTOR_BODY, VECTOR_SECRET, 1614265330 - 301, "in the future"),
        ({**VECTOR_HEADERS, "webhook-id": "msg_other"}, VECTOR_BODY, VECTOR_SECRET, 1614265330, "no v1 signature"),
        (
            {k: v for k, v in VECTOR_HEADERS.items() if k != "webhook-signature"},
            VECTOR_BODY,
            VECTOR_SECRET,
            1614265330,
            "missing",
        ),
        (
            {**VECTOR_HEADERS, "webhook-timestamp": "yesterday"},
            VECTOR_BODY,
            VECTOR_SECRET,
            1614265330,
            "not a Unix time",
        ),
        (
            {**VECTOR_HEADERS, "webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
            VECTOR_BODY,
            VECTOR_SECRET,
            1614265330,
            "no v1",
        ),
        (VECTOR_HEADERS, VECTOR_BODY, "whsec_!!!", 1614265330, "not a whsec_"),
    ],
)
def test_tampered_stale_or_wrongly_keyed_deliveries_are_rejected(
    headers: dict[str, str], body: bytes, secret: str, now: float, reason: str
) -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify_webhook(headers, body, secret, now=now)
    assert reason in caught.value.message and caught.value.provider == "replicate"


def test_one_matching_signature_among_several_is_enough() -> None:
    headers = {**VECTOR_HEADERS, "webhook-signature": "v1,bm90IGl0 " + VECTOR_HEADERS["webhook-signature"]}
    assert verify_webhook(headers, VECTOR_BODY, VECTOR_SECRET, now=1614265330)


def test_it_agrees_with_the_standardwebhooks_library() -> None:
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    stamp = int(time.time())
    signature = standardwebhooks.Webhook(secret).sign("msg_1", datetime.fromtimestamp(stamp, tz=UTC), '{"id": "p1"}')
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": signature}
    assert verify_webhook(headers, b'{"id": "p1"}', secret) == {"id": "p1"}


def delivered(live: Live) -> tuple[str, str, list[Any]]:
    """A prediction's id, the account's secret, and the completed webhook the emulator signed and sent."""
    with WebhookSink() as sink, client(live) as replicate:
        body = {"input": {"prompt": "a", "size": "1K"}, "webhook": sink.url, "webhook_events_filter": ["completed"]}
        job_id = replicate.start(body)
        replicate.wait(job_id)
        received = sink.wait_for(1)
        return job_id, replicate.webhook_secret(), list(received)


def test_the_emulator_s_signed_deliveries_verify_and_tampered_ones_do_not(live: Live) -> None:
    job_id, secret, [delivery] = delivered(live)
    prediction = verify_webhook(delivery.headers, delivery.body, secret)
    assert prediction["id"] == job_id and prediction["status"] == "succeeded"
    tampered = json.dumps({**prediction, "status": "failed"}).encode()
    stale = int(delivery.headers["webhook-timestamp"]) + 301
    attempts = [
        (delivery.headers, tampered, secret, None),
        (delivery.headers, delivery.body, "whsec_" + base64.b64encode(b"wrong").decode(), None),
        (delivery.headers, delivery.body, secret, stale),
    ]
    for headers, body, key, now in attempts:
        with pytest.raises(InvalidSignature):
            verify_webhook(headers, body, key, now=now)
