"""Wiro (`https://api.wiro.ai/v1`) for `bytedance/seedream-v4`.

`generate(body)` sends the Run body (JSON; multipart as soon as `inputImage` holds local files:
bytes, paths or data URIs) and polls `Task/Detail` until `task_postprocess_end` (success when
`pexit` is "0", else GenerationFailed with the task's `debugerror`) or `task_cancel` (Canceled).

Every call carries `x-api-key`; with a `secret` (signature projects) also `x-nonce` and
`x-signature` = hex HMAC-SHA256(key = API key, message = secret + nonce), with a fresh nonce per
request, retries included. Wiro reports most errors as HTTP 200 with `result: false`; those become
typed errors too (code 96, the concurrency limit, counts as a rate limit and is retried: the Run
was refused, nothing started).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from ._base import AsyncClient, Call, FilePart, Job, Provider, SyncClient, decode, fallback_message, parser
from ._errors import (
    AuthenticationError,
    Canceled,
    ClientError,
    GenerationFailed,
    InvalidRequest,
    QuotaExceeded,
    RateLimited,
)
from ._image import Image
from ._media import LocalFile, LocalImage, decode_data_uri, is_data_uri, is_local, load
from ._retry import Reply, Safety

__all__ = ["AsyncWiroClient", "WiroClient", "WiroProvider", "sign"]

MODEL = "bytedance/seedream-v4"
QUEUED = "task_queue"
TERMINAL = ("task_postprocess_end", "task_cancel")
# Wiro's own error codes (error reference): 96 concurrency limit, 97 no balance, 98 sign-in required.
CODE_ERRORS: dict[int, type[ClientError]] = {96: RateLimited, 97: QuotaExceeded, 98: AuthenticationError}


def sign(api_key: str, secret: str, nonce: str) -> str:
    """Wiro's request signature: lowercase hex HMAC-SHA256 keyed with the API key over secret + nonce."""
    return hmac.new(api_key.encode(), (secret + nonce).encode(), hashlib.sha256).hexdigest()


class _Nonces:
    """Strictly increasing millisecond nonces. Process-wide on purpose: two clients sharing a key
    must never send the same nonce (the React Native SDK does the same)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1_000_000)
            return str(self._last)


_NONCES = _Nonces()


class WiroProvider(Provider):
    name = "wiro"
    default_base_url = "https://api.wiro.ai/v1"

    def __init__(self, api_key: str, base_url: str | None = None, secret: str | None = None) -> None:
        super().__init__(api_key, base_url)
        self.secret = secret

    def auth_headers(self) -> dict[str, str]:
        headers = {"x-api-key": self.api_key}
        if self.secret is not None:
            nonce = _NONCES.next()
            headers |= {"x-nonce": nonce, "x-signature": sign(self.api_key, self.secret, nonce)}
        return headers

    def rate_limited(self, response: httpx.Response) -> bool:
        return response.status_code == 429 or _code(decode(response)) == 96

    def create(self, request: Mapping[str, Any]) -> Call:
        if not isinstance(request, Mapping):
            raise TypeError("a Wiro request is the Run body (a dict)")
        url = f"{self.base_url}/Run/{MODEL}"
        images = _image_list(request.get("inputImage"))
        if not any(_is_file(image) for image in images):
            return Call("POST", url, Safety.UNSAFE, json=dict(request))
        fields = {
            name: _form_value(value) for name, value in request.items() if name != "inputImage" and value is not None
        }
        parts: list[FilePart] = [("inputImage", _part(image, index)) for index, image in enumerate(images)]
        return Call("POST", url, Safety.UNSAFE, data=fields, files=parts)

    @parser
    def accepted(self, reply: Reply, call: Call) -> Job:
        return Job(str(self.check(reply)["taskid"]))

    def poll(self, job: Job) -> Call:
        return self.detail(job.id)

    @parser
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        task = self.check(reply)["tasklist"][0]
        status = task["status"]
        if status == "task_cancel":
            raise Canceled("the task was canceled", provider=self.name, code=status, job_id=job.id, body=task)
        if status != "task_postprocess_end":
            return None
        exit_code = str(task.get("pexit"))
        if exit_code != "0":
            message = str(task.get("debugerror") or f"the task exited with code {exit_code}")
            raise GenerationFailed(message, provider=self.name, code=exit_code, job_id=job.id, body=task)
        return [_output(output) for output in task.get("outputs") or []]

    def detail(self, job_id: str) -> Call:
        return Call("POST", f"{self.base_url}/Task/Detail", Safety.SAFE, json={"taskid": job_id})

    @parser
    def status_of(self, reply: Reply) -> str:
        return str(self.check(reply)["tasklist"][0]["status"])

    def stop(self, job_id: str, status: str) -> Call:
        """Cancel takes queued tasks, Kill running ones."""
        action = "Cancel" if status == QUEUED else "Kill"
        return Call("POST", f"{self.base_url}/Task/{action}", Safety.UNSAFE, json={"taskid": job_id})

    def left_queue(self, reply: Reply, status: str) -> bool:
        """Cancel was refused because the task started in the meantime: Kill it instead."""
        return status == QUEUED and _code(decode(reply.response)) == 1

    @parser
    def stopped(self, reply: Reply) -> bool:
        self.check(reply)
        return True

    def upload_call(self, file: LocalImage | str, filename: str | None, folder_id: str | None) -> Call:
        local = load(Path(file) if isinstance(file, str) else file, filename)
        fields = {"folderid": folder_id} if folder_id is not None else None
        return Call("POST", f"{self.base_url}/File/Upload", Safety.UNSAFE, data=fields, files=[("file", local.part())])

    @parser
    def uploaded(self, reply: Reply) -> str:
        return str(self.check(reply)["list"][0]["url"])

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        failed = isinstance(body, Mapping) and body.get("result") is False
        if response.is_success and not failed:
            return None
        errors = body.get("errors") if isinstance(body, Mapping) else None
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], Mapping) else {}
        code = first.get("code")
        message = str(first.get("message") or fallback_message(response, body))
        if not response.is_success:
            return self.status_error(response, body, message=message, code=code)
        return self.status_error(response, body, message=message, code=code, cls=_code_error(code))


class WiroClient(SyncClient[WiroProvider]):
    """`WiroClient(api_key, secret=...)` signs every call; without `secret` it sends the key alone."""

    def __init__(
        self,
        api_key: str,
        *,
        secret: str | None = None,
        base_url: str | None = None,
        timeout: float = 300.0,
        max_retries: int = 3,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self._secret = secret
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            transport=transport,
            http=http,
        )

    def _new_provider(self, api_key: str, base_url: str | None) -> WiroProvider:
        return WiroProvider(api_key, base_url, self._secret)

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued task or kill a running one; False when it had already finished."""
        status = self._provider.status_of(self._send(self._provider.detail(job_id)))
        if status in TERMINAL:
            return False
        reply = self._send(self._provider.stop(job_id, status))
        if self._provider.left_queue(reply, status):
            reply = self._send(self._provider.stop(job_id, "task_start"))
        return self._provider.stopped(reply)

    def upload(self, file: LocalImage | str, *, filename: str | None = None, folder_id: str | None = None) -> str:
        """Upload a file (bytes or a path) with File/Upload; returns the URL to use as `inputImage`."""
        return self._provider.uploaded(self._send(self._provider.upload_call(file, filename, folder_id)))


class AsyncWiroClient(AsyncClient[WiroProvider]):
    def __init__(
        self,
        api_key: str,
        *,
        secret: str | None = None,
        base_url: str | None = None,
        timeout: float = 300.0,
        max_retries: int = 3,
        poll_interval: float = 1.0,
        max_poll_interval: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._secret = secret
        super().__init__(
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            transport=transport,
            http=http,
        )

    def _new_provider(self, api_key: str, base_url: str | None) -> WiroProvider:
        return WiroProvider(api_key, base_url, self._secret)

    async def cancel(self, job_id: str) -> bool:
        status = self._provider.status_of(await self._send(self._provider.detail(job_id)))
        if status in TERMINAL:
            return False
        reply = await self._send(self._provider.stop(job_id, status))
        if self._provider.left_queue(reply, status):
            reply = await self._send(self._provider.stop(job_id, "task_start"))
        return self._provider.stopped(reply)

    async def upload(self, file: LocalImage | str, *, filename: str | None = None, folder_id: str | None = None) -> str:
        return self._provider.uploaded(await self._send(self._provider.upload_call(file, filename, folder_id)))


def _code(body: Any) -> Any:
    if isinstance(body, Mapping) and body.get("result") is False:
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return errors[0].get("code")
    return None


def _code_error(code: Any) -> type[ClientError]:
    return CODE_ERRORS.get(code, InvalidRequest) if isinstance(code, int) else InvalidRequest


def _image_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _is_file(image: Any) -> bool:
    """Bytes, paths and data URIs go up as files; http(s) URLs stay strings."""
    return is_local(image) or is_data_uri(image) or (isinstance(image, str) and bool(image) and not _is_url(image))


def _is_url(value: str) -> bool:
    return value[:7].lower() == "http://" or value[:8].lower() == "https://"


def _part(image: Any, index: int) -> tuple[str | None, bytes | str] | tuple[str, bytes, str]:
    if isinstance(image, str) and _is_url(image):
        return (None, image)
    return _file(image, index).part()


def _file(image: Any, index: int) -> LocalFile:
    if is_data_uri(image):
        try:
            data = decode_data_uri(image)[0]
        except ValueError as error:
            raise _refused(f"inputImage[{index}] is a malformed data URI: {error}") from error
        return load(data)
    if isinstance(image, str):
        if not os.path.isfile(image):
            raise _refused(f"inputImage[{index}] is neither an http(s) URL nor an existing file: {image!r}")
        return load(Path(image))
    if is_local(image):
        try:
            return load(image)
        except OSError as error:
            raise _refused(f"inputImage[{index}] cannot be read: {error}") from error
    raise _refused(f"inputImage[{index}] must be a URL, a file path, bytes or a data URI, not {type(image).__name__}")


def _refused(message: str) -> InvalidRequest:
    return InvalidRequest(message, provider="wiro")


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _output(output: Mapping[str, Any]) -> Image:
    return Image(url=output["url"], data=None, id=output.get("id"), provider="wiro")
