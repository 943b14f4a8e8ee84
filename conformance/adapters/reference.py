"""The reference clients of this project (`clients/`), driven in this process.

They are configured as a user would for a local emulator: the request's timeout, the first poll
after a quarter second. Their typed errors map one to one onto failure kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import clients
import clients.replicate
from clients.ark import AsyncArkClient
from clients.evolink import AsyncEvoLinkClient
from clients.fal import AsyncFalClient
from clients.replicate import AsyncReplicateClient
from clients.runware import AsyncRunwareClient
from clients.wiro import AsyncWiroClient

from .base import CANCEL, WEBHOOKS, Failure, GenerateRequest, GenerateResult, ImageResult, WebhookVerdict

KINDS: tuple[tuple[type[clients.ClientError], str], ...] = (
    (clients.InvalidRequest, "invalid_request"),
    (clients.AuthenticationError, "auth"),
    (clients.QuotaExceeded, "auth"),
    (clients.RateLimited, "rate_limited"),
    (clients.ServerError, "server_error"),
    (clients.ConnectionFailed, "connection"),
    (clients.DownloadFailed, "connection"),
    (clients.GenerationFailed, "generation_failed"),
    (clients.Canceled, "canceled"),
    (clients.PollTimeout, "timeout"),
)
CAPABILITIES = {"wiro": frozenset({CANCEL}), "fal": frozenset({CANCEL}), "replicate": frozenset({CANCEL, WEBHOOKS})}


class ReferenceAdapter:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.name = f"reference-{provider}"
        self.capabilities = CAPABILITIES.get(provider, frozenset())
        self._secrets: dict[str, str] = {}

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        async with self._client(request) as client:
            return await _attempt(client.generate(dict(request.body)))

    async def start(self, request: GenerateRequest) -> str:
        async with self._client(request) as client:
            return str(await client.start(dict(request.body)))

    async def cancel(self, request: GenerateRequest, job_id: str) -> None:
        async with self._client(request) as client:
            await client.cancel(job_id)

    async def wait(self, request: GenerateRequest, job_id: str) -> GenerateResult:
        async with self._client(request) as client:
            result = await _attempt(client.wait(job_id))
        result.job_id = job_id
        return result

    async def verify_webhook(self, request: GenerateRequest, headers: Mapping[str, str], body: bytes) -> WebhookVerdict:
        if request.base_url not in self._secrets:
            async with self._client(request) as client:
                self._secrets[request.base_url] = await client.webhook_secret()
        try:
            # Looked up at call time, so that the mutation suite's patches of the client reach it.
            clients.replicate.verify_webhook(headers, body, self._secrets[request.base_url])
        except clients.InvalidSignature as error:
            return WebhookVerdict(False, str(error))
        return WebhookVerdict(True)

    async def aclose(self) -> None:
        return None

    def _client(self, request: GenerateRequest) -> AbstractAsyncContextManager[Any]:
        options: dict[str, Any] = {"base_url": request.base_url, "timeout": request.timeout, "poll_interval": 0.25}
        key = request.credentials["api_key"]
        if self.provider == "runware":
            return AsyncRunwareClient(key, **options)
        if self.provider == "wiro":
            return AsyncWiroClient(key, secret=request.credentials.get("secret"), **options)
        if self.provider == "evolink":
            return AsyncEvoLinkClient(key, **options)
        if self.provider == "fal":
            return AsyncFalClient(key, **options)
        if self.provider == "ark":
            return AsyncArkClient(key, **options)
        return AsyncReplicateClient(key, **options)


def reference_adapter(provider: str) -> ReferenceAdapter:
    return ReferenceAdapter(provider)


async def _attempt(call: Any) -> GenerateResult:
    try:
        images = await call
    except clients.ClientError as error:
        return GenerateResult(failure=_failure(error))
    return GenerateResult(images=[ImageResult(url=image.url, data=image.data) for image in images])


def _failure(error: clients.ClientError) -> Failure:
    kind = next((kind for cls, kind in KINDS if isinstance(error, cls)), "crash")
    return Failure(kind, str(error), error.code, type(error).__name__)
