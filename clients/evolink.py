"""EvoLink (`https://api.evolink.ai`) for `doubao-seedream-4.0`.

`generate(body)` sends the create body to `POST /v1/images/generations` and polls
`GET /v1/tasks/{id}` until the task is `completed` (its `results` URLs), `failed`
(GenerationFailed with the task's `error.code` and message) or `cancelled` (Canceled). EvoLink
recommends polling every 3-5 s; the default `poll_interval` of 1 s growing to 10 s suits the
emulator and short jobs, pass `poll_interval=3` against the real service. EvoLink has no cancel and
no upload endpoint for image tasks; references go in `image_urls` as URLs or data URIs (bytes and
paths are inlined as data URIs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ._base import AsyncClient, Call, Job, Provider, SyncClient, fallback_message, parser
from ._errors import Canceled, ClientError, GenerationFailed
from ._image import Image
from ._media import inline
from ._retry import Reply, Safety

__all__ = ["AsyncEvoLinkClient", "EvoLinkClient", "EvoLinkProvider"]

FINISHED_BADLY = ("failed", "cancelled")


class EvoLinkProvider(Provider):
    name = "evolink"
    default_base_url = "https://api.evolink.ai"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def create(self, request: Mapping[str, Any]) -> Call:
        if not isinstance(request, Mapping):
            raise TypeError("an EvoLink request is the create body (a dict)")
        body = dict(request)
        if isinstance(body.get("image_urls"), list):
            body["image_urls"] = [inline(image) for image in body["image_urls"]]
        return Call("POST", f"{self.base_url}/v1/images/generations", Safety.UNSAFE, json=body)

    @parser
    def accepted(self, reply: Reply, call: Call) -> Job:
        return Job(str(self.check(reply)["id"]))

    def poll(self, job: Job) -> Call:
        return Call("GET", f"{self.base_url}/v1/tasks/{quote(job.id, safe='')}", Safety.SAFE)

    @parser
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        task = self.check(reply)
        status = task["status"]
        if status == "completed":
            return [Image(url=str(url), data=None, provider=self.name) for url in task.get("results") or []]
        if status not in FINISHED_BADLY:
            return None  # pending, processing, or a status this client does not know yet
        error = task.get("error") if isinstance(task.get("error"), Mapping) else {}
        cls = Canceled if status == "cancelled" else GenerationFailed
        message = str(error.get("message") or f"the task ended {status}")
        raise cls(message, provider=self.name, code=error.get("code", status), job_id=job.id, body=task)

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        if response.is_success:
            return None
        error = body.get("error") if isinstance(body, Mapping) else None
        error = error if isinstance(error, Mapping) else {}
        message = str(error.get("message") or fallback_message(response, body))
        return self.status_error(response, body, message=message, code=error.get("code"))


class EvoLinkClient(SyncClient[EvoLinkProvider]):
    """`EvoLinkClient(api_key, base_url="https://api.evolink.ai")`; `generate(body) -> list[Image]`."""

    provider_type = EvoLinkProvider


class AsyncEvoLinkClient(AsyncClient[EvoLinkProvider]):
    provider_type = EvoLinkProvider
