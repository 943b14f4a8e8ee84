"""Ark: BytePlus ModelArk (`https://ark.ap-southeast.bytepluses.com/api/v3`) and Volcengine Ark
(`https://ark.cn-beijing.volces.com/api/v3`) for Seedream 4.0 and 4.5.

`generate(body)` sends the body to `POST {base_url}/images/generations` and returns its images: Ark answers
synchronously, so there is nothing to poll and the one request lasts as long as the generation (the client's
`timeout` bounds it; running out is PollTimeout). In a group (`sequential_image_generation: "auto"`) an image that
failed has an `error` in place of its URL: the client returns the images that were made, and raises
GenerationFailed when none was. References go in `image` as URLs or data URIs (bytes and paths are inlined).
The body is sent as given, so `stream` must be left out (this client reads the JSON reply; docs/ark.md shows how
the official clients stream).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx

from ._base import AsyncClient, Call, Job, Provider, SyncClient, fallback_message, parser
from ._errors import ClientError, ConnectionFailed, GenerationFailed, ServerError
from ._image import Image
from ._media import inline
from ._retry import Reply, Safety

__all__ = ["ArkClient", "ArkProvider", "AsyncArkClient"]

# Error codes of an image the model made but would not hand out: the generation failed, not the request.
GENERATION_CODES = ("OutputImageSensitiveContentDetected", "OutputImageRiskDetection")


class ArkProvider(Provider):
    name = "ark"
    default_base_url = "https://ark.ap-southeast.bytepluses.com/api/v3"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def create(self, request: Mapping[str, Any]) -> Call:
        if not isinstance(request, Mapping):
            raise TypeError("an Ark request is the generation body (a dict)")
        body = dict(request)
        if body.get("stream"):
            raise ValueError("this client reads JSON replies: leave `stream` out")
        image = body.get("image")
        if isinstance(image, list):
            body["image"] = [inline(item) for item in image]
        elif image is not None:
            body["image"] = inline(image)
        return Call("POST", f"{self.base_url}/images/generations", Safety.UNSAFE, json=body, holds_job=True)

    @parser
    def accepted(self, reply: Reply, call: Call) -> Job:
        job = Job(f"ark-{uuid.uuid4()}")
        images = self.progress(reply, job)
        return replace(job, images=tuple(images) if images is not None else None)

    def poll(self, job: Job) -> Call:
        raise TypeError("Ark answers in the generation reply: there is no job to poll")

    @parser
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        body = self.check(reply)
        images, failures = [], []
        for item in body["data"]:
            if isinstance(item.get("error"), Mapping):
                failures.append(item["error"])
            elif item.get("b64_json") is not None:
                images.append(Image(url=None, data=_decoded(item["b64_json"]), provider=self.name))
            else:
                images.append(Image(url=str(item["url"]), data=None, provider=self.name))
        if images or not failures:
            return images
        first = failures[0]
        raise GenerationFailed(
            str(first.get("message") or "no image was generated"),
            provider=self.name,
            code=first.get("code"),
            job_id=job.id,
            body=body,
        )

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        if response.is_success:
            return None
        error = body.get("error") if isinstance(body, Mapping) else None
        error = error if isinstance(error, Mapping) else {}
        message = str(error.get("message") or fallback_message(response, body))
        code = error.get("code")
        cls = GenerationFailed if code in GENERATION_CODES else None
        return self.status_error(response, body, message=message, code=code, cls=cls)


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ServerError(f"b64_json is not base64: {error}", provider="ark") from error


class ArkClient(SyncClient[ArkProvider]):
    """`ArkClient(api_key, base_url="https://ark.ap-southeast.bytepluses.com/api/v3")`; `generate(body)`."""

    provider_type = ArkProvider

    def _start(self, request: Mapping[str, Any]) -> Job:
        call = self._provider.create(request)
        deadline = self._deadline()
        try:
            reply = self._send(call, deadline)
        except ConnectionFailed as error:
            # Cut off by the client's own timeout: a generation that did not finish in time.
            if deadline.remaining() <= 0:
                raise deadline.expired() from error
            raise
        return self._provider.accepted(reply, call)


class AsyncArkClient(AsyncClient[ArkProvider]):
    provider_type = ArkProvider

    async def _start(self, request: Mapping[str, Any]) -> Job:
        call = self._provider.create(request)
        deadline = self._deadline()
        try:
            reply = await self._send(call, deadline)
        except ConnectionFailed as error:
            # Cut off by the client's own timeout: a generation that did not finish in time.
            if deadline.remaining() <= 0:
                raise deadline.expired() from error
            raise
        return self._provider.accepted(reply, call)
