"""The adapter protocol: how the harness drives a client library.

The harness gives an adapter a base URL, credentials and a provider-native request; the adapter
calls the client and gives back the images (bytes or URLs) or a typed failure. Adapters translate
a client's own exceptions into `Failure.kind`; anything they cannot place is a `crash`, which the
checks treat as a defect (a client should never fail with an unrelated exception).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FailureKind = Literal[
    "invalid_request",
    "auth",
    "rate_limited",
    "server_error",
    "generation_failed",
    "timeout",
    "connection",
    "canceled",
    "crash",
]
FAILURE_KINDS: tuple[str, ...] = FailureKind.__args__  # type: ignore[attr-defined]

# What an adapter can do beyond generate(); checks that need a capability skip adapters without it.
CANCEL = "cancel"
WEBHOOKS = "webhooks"
WEBSOCKET = "websocket"  # the client talks over a WebSocket, so a dropped socket is worth testing


class AdapterUnavailable(Exception):
    """The client cannot be started here: unknown name, missing package, failed install, no ready line."""


@dataclass(frozen=True)
class GenerateRequest:
    provider: str
    base_url: str
    credentials: Mapping[str, str]
    body: Mapping[str, Any]
    timeout: float = 30.0
    webhook_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "credentials": dict(self.credentials),
            "body": dict(self.body),
            "timeout": self.timeout,
            "webhook_url": self.webhook_url,
        }


@dataclass(frozen=True)
class ImageResult:
    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class Failure:
    kind: str
    message: str
    code: str | int | None = None
    exception: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAILURE_KINDS:
            object.__setattr__(self, "kind", "crash")


@dataclass
class GenerateResult:
    images: list[ImageResult] = field(default_factory=list)
    failure: Failure | None = None
    job_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class WebhookVerdict:
    accepted: bool
    reason: str = ""


@runtime_checkable
class Adapter(Protocol):
    name: str
    provider: str
    capabilities: frozenset[str]

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        """Run the request to the end: images, or a typed failure."""
        ...

    async def aclose(self) -> None:
        """Release processes, connections and threads."""
        ...


@runtime_checkable
class CancelingAdapter(Adapter, Protocol):
    async def start(self, request: GenerateRequest) -> str:
        """Create the job and return its id without waiting for it."""
        ...

    async def cancel(self, request: GenerateRequest, job_id: str) -> None:
        """Ask the provider to cancel the job."""
        ...

    async def wait(self, request: GenerateRequest, job_id: str) -> GenerateResult:
        """Wait for a started job as `generate` would."""
        ...


@runtime_checkable
class WebhookAdapter(Adapter, Protocol):
    async def verify_webhook(self, request: GenerateRequest, headers: Mapping[str, str], body: bytes) -> WebhookVerdict:
        """Would the client accept this delivery as genuine?"""
        ...
