"""Replicate (`https://api.replicate.com`) for `bytedance/seedream-4`.

`generate({"input": {...}})` creates a prediction with
`POST /v1/models/bytedance/seedream-4/predictions` (or `POST /v1/predictions` when the body names a
`version`) and polls `GET /v1/predictions/{id}` until it is `succeeded` (outputs: https URLs, or
data URIs decoded into `Image.data`), `failed` (GenerationFailed with the prediction's `error`) or
`canceled` / `aborted` (Canceled). A create is not idempotent, so it is retried only on 429 and
when the connection could not be opened; polls are retried on 429, 5xx and transport errors.
Retry-After comes from the header or, failing that, the problem body's `retry_after`.

`verify_webhook()` checks a delivery the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64 part of
the `whsec_` secret that `client.webhook_secret()` fetches).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ._base import AsyncClient, Call, Job, Provider, SyncClient, fallback_message, parser
from ._errors import Canceled, ClientError, GenerationFailed, InvalidSignature
from ._image import Image
from ._media import LocalImage, decode_data_uri, inline, is_data_uri, load
from ._retry import Reply, Safety

__all__ = ["AsyncReplicateClient", "ReplicateClient", "ReplicateProvider", "verify_webhook"]

MODEL = "bytedance/seedream-4"
SECRET_PREFIX = "whsec_"


class ReplicateProvider(Provider):
    name = "replicate"
    default_base_url = "https://api.replicate.com"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def retry_after(self, response: httpx.Response) -> float | None:
        from_header = super().retry_after(response)
        if from_header is not None:
            return from_header
        try:
            seconds = response.json().get("retry_after")
        except (ValueError, AttributeError):
            return None
        return float(seconds) if isinstance(seconds, int | float) and not isinstance(seconds, bool) else None

    def create(self, request: Mapping[str, Any]) -> Call:
        if not isinstance(request, Mapping):
            raise TypeError('a Replicate request is the prediction body, {"input": {...}}')
        body = dict(request)
        given = body.get("input")
        if isinstance(given, Mapping) and isinstance(given.get("image_input"), list):
            body["input"] = {**given, "image_input": [inline(image) for image in given["image_input"]]}
        path = "/v1/predictions" if "version" in body else f"/v1/models/{MODEL}/predictions"
        return Call("POST", self.base_url + path, Safety.UNSAFE, json=body)

    @parser
    def accepted(self, reply: Reply, call: Call) -> Job:
        return Job(str(self.check(reply)["id"]))

    def poll(self, job: Job) -> Call:
        return Call("GET", f"{self.base_url}/v1/predictions/{quote(job.id, safe='')}", Safety.SAFE)

    @parser
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        prediction = self.check(reply)
        status = prediction["status"]
        if status == "succeeded":
            return _images(prediction.get("output"))
        if status == "failed":
            message = str(prediction.get("error") or "the prediction failed")
            raise GenerationFailed(message, provider=self.name, job_id=job.id, body=prediction)
        if status in ("canceled", "aborted"):
            message = f"the prediction was {status}"
            raise Canceled(message, provider=self.name, code=status, job_id=job.id, body=prediction)
        return None

    def cancel_call(self, job_id: str) -> Call:
        # Cancelling twice answers the prediction unchanged, so a retry is harmless.
        return Call("POST", f"{self.base_url}/v1/predictions/{quote(job_id, safe='')}/cancel", Safety.SAFE)

    @parser
    def canceled(self, reply: Reply) -> bool:
        return self.check(reply)["status"] not in ("succeeded", "failed")

    def upload_call(self, file: LocalImage, filename: str | None, metadata: Mapping[str, Any] | None) -> Call:
        local = load(file, filename)
        fields = {"metadata": json.dumps(dict(metadata))} if metadata is not None else None
        url = f"{self.base_url}/v1/files"
        return Call("POST", url, Safety.UNSAFE, data=fields, files=[("content", local.part())])

    @parser
    def uploaded(self, reply: Reply) -> str:
        return str(self.check(reply)["urls"]["get"])

    def secret_call(self) -> Call:
        return Call("GET", f"{self.base_url}/v1/webhooks/default/secret", Safety.SAFE)

    @parser
    def secret(self, reply: Reply) -> str:
        return str(self.check(reply)["key"])

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        if response.is_success:
            return None
        problem = body if isinstance(body, Mapping) else {}
        title = problem.get("title")
        message = problem.get("detail") or title or fallback_message(response, body)
        return self.status_error(response, body, message=str(message), code=title)


class ReplicateClient(SyncClient[ReplicateProvider]):
    """`ReplicateClient(api_token, base_url="https://api.replicate.com")` (the base never includes /v1)."""

    provider_type = ReplicateProvider

    def cancel(self, job_id: str) -> bool:
        """Cancel a prediction; False when it had already succeeded or failed."""
        return self._provider.canceled(self._send(self._provider.cancel_call(job_id)))

    def upload(
        self, file: LocalImage, *, filename: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> str:
        """Upload a file (bytes or a path) to POST /v1/files; returns its URL, usable in `image_input`."""
        return self._provider.uploaded(self._send(self._provider.upload_call(file, filename, metadata)))

    def webhook_secret(self) -> str:
        """The `whsec_...` secret webhooks are signed with (GET /v1/webhooks/default/secret)."""
        return self._provider.secret(self._send(self._provider.secret_call()))


class AsyncReplicateClient(AsyncClient[ReplicateProvider]):
    provider_type = ReplicateProvider

    async def cancel(self, job_id: str) -> bool:
        return self._provider.canceled(await self._send(self._provider.cancel_call(job_id)))

    async def upload(
        self, file: LocalImage, *, filename: str | None = None, metadata: Mapping[str, Any] | None = None
    ) -> str:
        return self._provider.uploaded(await self._send(self._provider.upload_call(file, filename, metadata)))

    async def webhook_secret(self) -> str:
        return self._provider.secret(await self._send(self._provider.secret_call()))


def verify_webhook(
    headers: Mapping[str, str], body: bytes | str, secret: str, *, tolerance: float = 300, now: float | None = None
) -> dict[str, Any]:
    """The delivered prediction, once the signature and timestamp check out; InvalidSignature otherwise."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = [name for name in ("webhook-id", "webhook-timestamp", "webhook-signature") if not lowered.get(name)]
    if missing:
        raise _invalid(f"missing header {missing[0]}")
    stamp = lowered["webhook-timestamp"]
    try:
        sent_at = int(stamp)
    except ValueError:
        raise _invalid(f"webhook-timestamp {stamp!r} is not a Unix time") from None
    age = (time.time() if now is None else now) - sent_at
    if abs(age) > tolerance:
        when = "old" if age > 0 else "in the future"
        raise _invalid(f"webhook-timestamp is {abs(age):.0f} s {when} (tolerance {tolerance:g} s)")
    raw = body.encode() if isinstance(body, str) else bytes(body)
    digest = hmac.new(_key(secret), f"{lowered['webhook-id']}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    offered = (entry.partition(",") for entry in lowered["webhook-signature"].split())
    if not any(version == "v1" and hmac.compare_digest(sig.encode(), expected) for version, _, sig in offered):
        raise _invalid("no v1 signature matches the body")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise _invalid("the signed body is not JSON") from None
    if not isinstance(payload, dict):
        raise _invalid("the signed body is not a JSON object")
    return payload


def _key(secret: str) -> bytes:
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise _invalid("the secret is not a whsec_<base64> key")
    return key


def _invalid(message: str) -> InvalidSignature:
    return InvalidSignature(message, provider="replicate")


def _images(output: Any) -> list[Image]:
    items = output if isinstance(output, list) else [] if output is None else [output]
    return [_image(str(item)) for item in items]


def _image(item: str) -> Image:
    if is_data_uri(item):
        return Image(url=None, data=decode_data_uri(item)[0], provider="replicate")
    return Image(url=item, data=None, provider="replicate")
