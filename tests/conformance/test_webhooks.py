"""The harness's webhook tools: a Standard Webhooks signer the standard's own library accepts, and stripping."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conformance.webhooks import StandardWebhooks, resigned, unsigned

SECRET = "whsec_" + base64.b64encode(b"a conformance signing key").decode()
BODY = b'{"id": "p1", "status": "succeeded"}'


def test_a_signed_delivery_verifies_with_the_standard_webhooks_library() -> None:
    now = int(time.time())
    headers = StandardWebhooks(SECRET, tolerance=300).sign(BODY, now, "msg_1")
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(SECRET).verify(BODY, headers) == {"id": "p1", "status": "succeeded"}


def test_the_replicate_test_vector() -> None:
    # replicate 1.0.7 tests/test_webhooks.py (shared/providers/replicate.md section 5.6).
    body = b'{"test": 2432232314}'
    headers = StandardWebhooks("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", tolerance=300).sign(
        body, 1614265330, "msg_p5jXN8AQM9LWM0D4loKWxJek"
    )
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_delivery_signed_outside_the_tolerance_is_refused_by_the_library() -> None:
    stale = StandardWebhooks(SECRET, tolerance=300).sign(BODY, int(time.time()) - 360, "msg_1")
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(BODY, stale)


def test_unsigned_keeps_only_what_any_http_post_carries() -> None:
    headers = {"Content-Type": "application/json", "user-agent": "x", "webhook-id": "m", "webhook-signature": "v1,s",
               "webhook-timestamp": "1", "x-wiro-signature": "y"}  # fmt: skip
    assert unsigned(headers) == {"Content-Type": "application/json", "user-agent": "x"}


def test_resigned_replaces_the_providers_headers() -> None:
    signing = StandardWebhooks(SECRET, tolerance=300)
    headers = resigned(
        {"content-type": "application/json", "webhook-id": "old", "webhook-signature": "v1,old"},
        BODY,
        signing,
        5,
        "msg_2",
    )
    assert headers == {"content-type": "application/json", **signing.sign(BODY, 5, "msg_2")}


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ValueError, match="not a whsec_<base64> secret"):
        StandardWebhooks("whsec_not base64!", tolerance=300).sign(BODY, 1, "msg_1")
