"""Runware REST (`POST https://api.runware.ai/v1`) for Seedream 4.0 (`bytedance:5@0`) and 4.5
(`bytedance:seedream@4.5`).

`generate(task)` sends one `imageInference` task. Unless the task names a `deliveryMethod` it
goes out async and `getResponse` is polled until every expected image (numberResults x
maxSequentialImages) is `success`, or until no item is `processing` any more: Seedream "may
generate fewer images than requested", and then the client returns what arrived. Error items
raise. A task's `taskUUID` makes its create idempotent (a re-sent UUID answers `conflictTaskUUID`),
so creates are retried like reads; a retry answered `conflictTaskUUID` means an earlier attempt got
through, and the client polls for that task instead of failing.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import httpx

from ._base import AsyncClient, Call, Job, Provider, SyncClient, decode, fallback_message, parser
from ._errors import Canceled, ClientError, GenerationFailed, InvalidRequest, error_type
from ._image import Image
from ._media import LocalImage, decode_data_uri, inline
from ._retry import Reply, Safety

__all__ = ["AsyncRunwareClient", "RunwareClient", "RunwareProvider"]

# Code families runware-sdk 1.8.0 files under "validation": the caller's request was at fault.
VALIDATION_PREFIXES = ("invalid", "missing", "unsupported", "max", "array", "value", "conflict")


class RunwareProvider(Provider):
    name = "runware"
    default_base_url = "https://api.runware.ai/v1"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def create(self, request: Mapping[str, Any]) -> Call:
        task = _task(request)
        return Call("POST", self.base_url, Safety.SAFE, json=[task], holds_job=task["deliveryMethod"] == "sync")

    @parser
    def accepted(self, reply: Reply, call: Call) -> Job:
        task = call.json[0]
        job = Job(task["taskUUID"], expected=_expected(task))
        body = decode(reply.response)
        codes = {problem.get("code") for problem in _problems(body)}
        if reply.repeated and codes == {"conflictTaskUUID"}:
            return job
        error = self._error(reply.response, body, job.id, during_job=call.holds_job)
        if error is not None:
            raise error
        if not call.holds_job:
            return job
        return replace(job, images=tuple(_images(_items(body, job.id))))

    def poll(self, job: Job) -> Call:
        return Call("POST", self.base_url, Safety.SAFE, json=[{"taskType": "getResponse", "taskUUID": job.id}])

    @parser
    def progress(self, reply: Reply, job: Job) -> list[Image] | None:
        body = decode(reply.response)
        error = self._error(reply.response, body, job.id, during_job=True)
        if error is not None:
            raise error
        items = _items(body, job.id)
        images = _images(item for item in items if _finished(item))
        if job.expected is not None and len(images) >= job.expected:
            return images
        if items and all(_finished(item) for item in items):
            return images
        return None

    def upload_call(self, image: LocalImage | str) -> Call:
        task = {"taskType": "imageUpload", "taskUUID": str(uuid.uuid4()), "image": inline(image)}
        # A retried upload would meet conflictTaskUUID with no result attached: send it once.
        return Call("POST", self.base_url, Safety.UNSAFE, json=[task])

    @parser
    def uploaded(self, reply: Reply) -> str:
        body = self.check(reply)
        return str(body["data"][0]["imageUUID"])

    def error(self, response: httpx.Response, body: Any) -> ClientError | None:
        return self._error(response, body, None, during_job=False)

    def _error(
        self, response: httpx.Response, body: Any, job_id: str | None, *, during_job: bool
    ) -> ClientError | None:
        problems = _problems(body)
        if response.is_success and not problems:
            return None
        problem = next((p for p in problems if _same(p.get("taskUUID"), job_id)), problems[0] if problems else {})
        message = str(problem.get("message") or fallback_message(response, body))
        return self.status_error(
            response,
            body,
            message=message,
            code=problem.get("code"),
            job_id=job_id,
            cls=_error_class(response.status_code, problem, during_job),
        )


class RunwareClient(SyncClient[RunwareProvider]):
    """`RunwareClient(api_key, base_url="https://api.runware.ai/v1")`; `generate(task) -> list[Image]`."""

    provider_type = RunwareProvider

    def upload(self, image: LocalImage | str) -> str:
        """Upload an image (bytes, a path, a data URI, base64 or a URL) with `imageUpload`; returns its imageUUID."""
        return self._provider.uploaded(self._send(self._provider.upload_call(image)))


class AsyncRunwareClient(AsyncClient[RunwareProvider]):
    provider_type = RunwareProvider

    async def upload(self, image: LocalImage | str) -> str:
        return self._provider.uploaded(await self._send(self._provider.upload_call(image)))


def _task(request: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(request, Mapping):
        raise TypeError("a Runware request is one task object (a dict)")
    task = dict(request)
    task.setdefault("taskType", "imageInference")
    task.setdefault("taskUUID", str(uuid.uuid4()))
    # A task that names no delivery method goes out async and is polled; one that names any is sent as written, so
    # an invalid value meets Runware's validation instead of being silently replaced.
    task.setdefault("deliveryMethod", "async")
    if isinstance(task.get("referenceImages"), list):
        task["referenceImages"] = [inline(image) for image in task["referenceImages"]]
    inputs = task.get("inputs")
    if isinstance(inputs, Mapping) and isinstance(inputs.get("referenceImages"), list):
        task["inputs"] = {**inputs, "referenceImages": [inline(image) for image in inputs["referenceImages"]]}
    return task


def _expected(task: Mapping[str, Any]) -> int:
    """numberResults x maxSequentialImages: every result may be a sequence of images."""
    results = task.get("numberResults", 1)
    settings = task.get("providerSettings")
    bytedance = settings.get("bytedance") if isinstance(settings, Mapping) else None
    sequence = bytedance.get("maxSequentialImages", 1) if isinstance(bytedance, Mapping) else 1
    return _count(results) * _count(sequence)


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _problems(body: Any) -> list[dict[str, Any]]:
    """Error items, and data items with `status: "error"` (their details may be nested under `error`)."""
    if not isinstance(body, Mapping):
        return []
    problems: list[dict[str, Any]] = []
    # Older docs answer a singular `error` (an object or a list); runware-sdk 1.8.0 accepts it too.
    for source in (body.get("errors"), body.get("error")):
        if isinstance(source, Mapping):
            problems.append(dict(source))
        elif isinstance(source, list):
            problems.extend(dict(item) for item in source if isinstance(item, Mapping))
    for item in body.get("data") or []:
        if isinstance(item, Mapping) and item.get("status") == "error":
            nested = item.get("error")
            problems.append({**item, **nested} if isinstance(nested, Mapping) else dict(item))
    return problems


def _error_class(status: int, problem: Mapping[str, Any], during_job: bool) -> type[ClientError]:
    if problem.get("code") == "taskCancelled":
        return Canceled
    if status in (401, 402, 403, 429) or status >= 500:
        return error_type(status)
    if during_job and _is_failure(problem):
        return GenerationFailed
    return error_type(status) if status >= 400 else InvalidRequest


def _is_failure(problem: Mapping[str, Any]) -> bool:
    """A failed generation rather than a refused request: validation errors name a parameter or carry
    a validation code; `taskFailedOrNotFound` for a task this client created means it failed."""
    code = str(problem.get("code") or "")
    if problem.get("status") == "error" or code == "taskFailedOrNotFound":
        return True
    return not (problem.get("parameter") or code.startswith(VALIDATION_PREFIXES))


def _items(body: Any, task_uuid: str) -> list[Mapping[str, Any]]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return [item for item in data or [] if isinstance(item, Mapping) and _same(item.get("taskUUID"), task_uuid)]


def _finished(item: Mapping[str, Any]) -> bool:
    status = item.get("status")
    if status is not None:
        return bool(status == "success")
    return any(item.get(name) for name in ("imageURL", "imageDataURI", "imageBase64Data"))


def _images(items: Iterable[Mapping[str, Any]]) -> list[Image]:
    """Images in arrival order, once each (getResponse replies are cumulative)."""
    seen: set[str] = set()
    images = []
    for item in items:
        key = item.get("imageUUID")
        if isinstance(key, str):
            if key in seen:
                continue
            seen.add(key)
        images.append(_image(item))
    return images


def _image(item: Mapping[str, Any]) -> Image:
    data: bytes | None = None
    if item.get("imageDataURI"):
        data = decode_data_uri(item["imageDataURI"])[0]
    elif item.get("imageBase64Data"):
        try:
            data = base64.b64decode(item["imageBase64Data"])
        except binascii.Error as error:
            raise ValueError(f"imageBase64Data is not base64: {error}") from error
    seed = item.get("seed")
    return Image(
        url=item.get("imageURL"),
        data=data,
        seed=seed if isinstance(seed, int) else None,
        id=item.get("imageUUID"),
        provider="runware",
    )


def _same(left: Any, right: str | None) -> bool:
    return isinstance(left, str) and right is not None and left.lower() == right.lower()
