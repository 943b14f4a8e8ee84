"""fal (`https://queue.fal.run`, `https://fal.run`) for the Seedream apps `fal-ai/bytedance/seedream/...`.

A request is `{"app": "<app id>", "input": {...}, "webhook": "<url>"?}`. `generate(request)` submits it to the
queue (`POST {base}/queue/{app}`, `?fal_webhook=` when given), polls `GET .../requests/{id}/status` until
`COMPLETED`, then reads the result at `GET .../requests/{id}`: the images, or the app's error (422 for bad input or
a content refusal, 499 when cancelled). `base_url` is where both hosts live: `https://fal.ai`-style deployments
serve the queue at `{base}/queue` and direct runs at `{base}/run` (the emulator's layout); status, result and
cancel go to the app's owner/alias (`fal-ai/bytedance` for every Seedream app), as fal's own clients send them.
References go in `input.image_urls` as URLs or data URIs (bytes and paths are inlined as data URIs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from ._base import AsyncClient, Call, Job, Provider, SyncClient, fallback_message, parser
from ._errors import Canceled, ClientError, GenerationFailed
from ._image import Image
from ._media import inline
from ._polling import Deadline
from ._retry import Reply, Safety

__all__ = ["AsyncFalClient", "FalClient", "FalProvider"]

OWNER_ALIAS = "fal-ai/bytedance"
CANCELLED = 499


class FalProvider(Provider):
    name = "fal"
    default_base_url = "https://fal.run"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self.api_key}"}

    def create(self, request: Mapping[str, Any]) -> Call:
        if not isinstance(request, Mapping) or not isinstance(request.get("app"), str):
            raise TypeError('a fal request is {"app": "<app id>", "input": {...}}')
        body = dict(request.get("input") or {})
        if isinstance(body.get("image_urls"), list):
            body["image_urls"] = [inline(image) for image in body["image_urls"]]
        url = f"{self.base_url}/queue/{request['app']}"
        if request.get("webhook"):
            url += "?" + urlencode({"fal_webhook": request["webhook"]})
        return Call("POST", url, Safety.UNSAFE, json=body)

    @parser
    def accepted(self, reply: Reply, call: Call) -> Job:
        return Job(str(self.check(reply)["request_id"]))

    def _request_url(self, job_id: str, suffix: str = "") -> str:
        return f"{self.base_url}/queue/{OWNER_ALIAS}/requests/{quote(job_id, safe='')}{suffix}"

    def poll(self, job: Job) -> Call:
        return Call("GET", self._request_url(job.id, "/status"), Safety.SAFE)

    @parser
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        """An empty list once COMPLETED (the result is another request); None while queued or running."""
        status = self.check(reply)["status"]
        return [] if status == "COMPLETED" else None

    def result_call(self, job: Job) -> Call:
        return Call("GET", self._request_url(job.id), Safety.SAFE)

    @parser
    def result(self, reply: Reply, job: Job) -> list[Image]:
        response = reply.response
        if response.status_code == CANCELLED:
            raise Canceled("the request was cancelled", provider=self.name, code="client_cancelled", job_id=job.id)
        if response.status_code == 422 or response.is_server_error:
            body = _json(response)
            message, code = _detail(response, body)
            raise GenerationFailed(message, provider=self.name, code=code, job_id=job.id, body=body)
        output = self.check(reply)
        return [Image(url=str(image["url"]), data=None, provider=self.name) for image in output["images"]]

    def cancel_call(self, job_id: str) -> Call:
        return Call("PUT", self._request_url(job_id, "/cancel"), Safety.SAFE)

    def cancelled(self, reply: Reply) -> bool:
        """True when the cancellation was taken; False when the request had already completed."""
        if reply.response.status_code == 400:
            return False
        self.check(reply)
        return True

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        if response.is_success:
            return None
        message, code = _detail(response, body)
        return self.status_error(response, body, message=message, code=code)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _detail(response: httpx.Response, body: Any) -> tuple[str, str | None]:
    """fal's message and type: a string `detail` with `error_type`, or the first of a list of typed errors."""
    detail = body.get("detail") if isinstance(body, Mapping) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], Mapping):
        first = detail[0]
        where = ".".join(str(part) for part in first.get("loc", []) if part != "body")
        return f"{where}: {first.get('msg')}" if where else str(first.get("msg")), first.get("type")
    code = body.get("error_type") if isinstance(body, Mapping) else None
    return (str(detail) if detail else fallback_message(response, body)), code or response.headers.get(
        "x-fal-error-type"
    )


class FalClient(SyncClient[FalProvider]):
    """`FalClient("key-id:key-secret", base_url=...)`; `generate({"app": ..., "input": {...}}) -> list[Image]`."""

    provider_type = FalProvider

    def cancel(self, job_id: str) -> bool:
        return self._provider.cancelled(self._send(self._provider.cancel_call(job_id)))

    def _wait(self, job: Job, deadline: Deadline) -> list[Image]:
        super()._wait(job, deadline)
        return self._provider.result(self._send(self._provider.result_call(job), deadline.for_job(job.id)), job)


class AsyncFalClient(AsyncClient[FalProvider]):
    provider_type = FalProvider

    async def cancel(self, job_id: str) -> bool:
        return self._provider.cancelled(await self._send(self._provider.cancel_call(job_id)))

    async def _wait(self, job: Job, deadline: Deadline) -> list[Image]:
        await super()._wait(job, deadline)
        reply = await self._send(self._provider.result_call(job), deadline.for_job(job.id))
        return self._provider.result(reply, job)
