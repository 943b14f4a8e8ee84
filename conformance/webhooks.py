"""Webhooks as the harness handles them: a receiver on loopback that records every POST and answers with a
chosen status, and the means to re-sign or strip a delivery for the receiver cases (unsigned, stale, re-ordered).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, Self

# Headers any HTTP POST carries; everything else on a delivery (signatures, timestamps, message ids) is the
# provider's and is what `unsigned` strips.
GENERIC_HEADERS = frozenset(
    {"host", "content-type", "content-length", "user-agent", "accept", "accept-encoding", "connection"}
)


class WebhookSigning(Protocol):
    """How a provider signs its webhook deliveries (a profile supplies it; see `profiles.base.webhook_signing`)."""

    @property
    def tolerance(self) -> float:
        """Seconds a delivery's timestamp may differ from the receiver's clock, as the provider documents."""
        ...

    def sign(self, body: bytes, timestamp: int, message_id: str) -> dict[str, str]:
        """The signing headers of a delivery of `body` sent at `timestamp` (Unix seconds) as message `message_id`."""
        ...


@dataclass(frozen=True)
class StandardWebhooks:
    """Standard Webhooks v1 (https://www.standardwebhooks.com/, as Replicate signs): `webhook-id`,
    `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the
    base64 part of a `whsec_` secret."""

    secret: str
    tolerance: float

    def sign(self, body: bytes, timestamp: int, message_id: str) -> dict[str, str]:
        encoded = self.secret.removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"not a whsec_<base64> secret: {error}") from error
        content = f"{message_id}.{timestamp}.".encode() + body
        signature = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": f"v1,{signature}"}


def unsigned(headers: Mapping[str, str]) -> dict[str, str]:
    """The delivery's headers without anything a provider adds to prove it sent them."""
    return {name: value for name, value in headers.items() if name.lower() in GENERIC_HEADERS}


def resigned(
    headers: Mapping[str, str], body: bytes, signing: WebhookSigning, timestamp: int, message_id: str
) -> dict[str, str]:
    """The delivery's headers, signed afresh at `timestamp` as message `message_id`."""
    return {**unsigned(headers), **signing.sign(body, timestamp, message_id)}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookSink:
    status: int = 200
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """The deliveries so far, once `count` arrived or `timeout` passed (whichever is first)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.received)
