"""The official `replicate` 1.0.7 client, used as its README shows (`client.run`), in this process.

The client is synchronous; calls run in worker threads. A call that never returns keeps its thread,
which is the finding itself: the harness reports it as a hang and moves on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .base import CANCEL, WEBHOOKS, Failure, GenerateRequest, GenerateResult, ImageResult, WebhookVerdict

MODEL = "bytedance/seedream-4"


class ReplicateSdkAdapter:
    name = "replicate-1.0.7"
    provider = "replicate"
    capabilities = frozenset({CANCEL, WEBHOOKS})

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        return await asyncio.to_thread(self._generate, request)

    async def start(self, request: GenerateRequest) -> str:
        prediction = await asyncio.to_thread(
            lambda: _client(request).predictions.create(model=MODEL, **_params(request.body))
        )
        return str(prediction.id)

    async def cancel(self, request: GenerateRequest, job_id: str) -> None:
        await asyncio.to_thread(lambda: _client(request).predictions.cancel(job_id))

    async def wait(self, request: GenerateRequest, job_id: str) -> GenerateResult:
        return await asyncio.to_thread(self._wait, request, job_id)

    async def verify_webhook(self, request: GenerateRequest, headers: Mapping[str, str], body: bytes) -> WebhookVerdict:
        from replicate.webhook import WebhookValidationError

        def verify() -> WebhookVerdict:
            client = _client(request)
            try:
                client.webhooks.validate(
                    headers=dict(headers), body=body.decode(), secret=client.webhooks.default.secret()
                )
            except WebhookValidationError as error:
                return WebhookVerdict(False, str(error))
            return WebhookVerdict(True)

        return await asyncio.to_thread(verify)

    async def aclose(self) -> None:
        return None

    def _generate(self, request: GenerateRequest) -> GenerateResult:
        try:
            output = _client(request).run(MODEL, **_params(request.body))
        except Exception as error:  # mapped to kinds; unknown types become crashes
            return GenerateResult(failure=_failure(error))
        return GenerateResult(images=[_image(item) for item in (output or [])])

    def _wait(self, request: GenerateRequest, job_id: str) -> GenerateResult:
        try:
            prediction = _client(request).predictions.get(job_id)
            prediction.wait()
        except Exception as error:  # mapped to kinds; unknown types become crashes
            return GenerateResult(failure=_failure(error), job_id=job_id)
        if prediction.status == "canceled":
            return GenerateResult(failure=Failure("canceled", "the prediction was canceled"), job_id=job_id)
        if prediction.status == "failed":
            return GenerateResult(failure=Failure("generation_failed", str(prediction.error)), job_id=job_id)
        return GenerateResult(images=[ImageResult(url=url) for url in prediction.output or []], job_id=job_id)


def _client(request: GenerateRequest) -> Any:
    from replicate.client import Client

    return Client(api_token=request.credentials["api_key"], base_url=request.base_url)


def _params(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key in ("input", "webhook", "webhook_events_filter")}


def _image(item: Any) -> ImageResult:
    read = getattr(item, "read", None)
    if callable(read):
        return ImageResult(data=read())
    return ImageResult(url=str(item))


def _failure(error: Exception) -> Failure:
    from replicate.exceptions import ModelError, ReplicateError

    if isinstance(error, ModelError):
        status = getattr(error.prediction, "status", "failed")
        return Failure("canceled" if status == "canceled" else "generation_failed", str(error), exception="ModelError")
    if isinstance(error, ReplicateError):
        status = error.status or 0
        kind = (
            "auth"
            if status in (401, 403)
            else "rate_limited"
            if status == 429
            else "server_error"
            if status >= 500
            else "invalid_request"
        )
        return Failure(kind, f"{error.title}: {error.detail}", status, "ReplicateError")
    import httpx

    if isinstance(error, httpx.TransportError):
        return Failure("connection", str(error), exception=type(error).__name__)
    return Failure("crash", f"{type(error).__name__}: {error}", exception=type(error).__name__)
