"""Runware's REST transport: `POST /v1` with a JSON array of tasks."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from emulator.core.http import JOURNAL_STATE, BodyTooLarge, bearer_token, dumps, origin, parse_json, read_body
from emulator.core.jobs import Job
from emulator.core.journal import Entry, mask_key

from . import errors
from .errors import RunwareError
from .models import SURFACE, RunwareService

logger = logging.getLogger(__name__)
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@dataclass
class Slot:
    """The answer to one task of a request, in request order."""

    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    job: Job | None = None

    def fail(self, error: RunwareError) -> Slot:
        self.errors.append(error.item())
        self.statuses.append(error.status)
        return self


def reply(data: list[dict[str, Any]], error_items: list[dict[str, Any]], status: int = 200) -> Response:
    body: dict[str, Any] = {}
    if data or not error_items:
        body["data"] = data
    if error_items:
        body["errors"] = error_items
    return Response(dumps(body), status_code=status, media_type="application/json")


def error_reply(error: RunwareError) -> Response:
    return reply([], [error.item()], error.status)


class RestEndpoint:
    def __init__(self, service: RunwareService, max_body: int) -> None:
        self.service = service
        self.max_body = max_body

    async def handle(self, request: Request) -> Response:
        entry = _entry(request, "POST /v1")
        try:
            return await self._handle(request, entry)
        except Exception as exc:  # a bug must still look like Runware to the client, and be visible
            logger.exception("unexpected error answering a Runware request")
            if entry is not None:
                entry.warnings.append(f"emulator error: {type(exc).__name__}: {exc}")
            return error_reply(errors.internal())

    async def _handle(self, request: Request, entry: Entry | None) -> Response:
        if request.method != "POST":
            return error_reply(errors.method_not_allowed(request.method))
        try:
            tasks = parse_json(await read_body(request, self.max_body))
        except BodyTooLarge as exc:
            return error_reply(errors.body_too_large(exc.limit))
        except ValueError as exc:
            return error_reply(errors.invalid_json(str(exc)))
        if not isinstance(tasks, list) or not tasks:
            _record(entry, self.service.violations("request", tasks), "")
            return error_reply(errors.invalid_body("The request body must be a non-empty JSON array of task objects."))
        key = _api_key(request, tasks)
        if entry is not None:
            entry.api_key = mask_key(key if isinstance(key, str) else None)
        try:
            self.service.authenticate(key)
        except RunwareError as exc:
            return error_reply(exc)
        base_url = self.service.runtime.base_url(origin(request))
        slots = [await self._start(task, position, base_url, entry) for position, task in enumerate(tasks)]
        waiting = [self._finish(slot) for slot in slots if slot.job is not None]
        if len(waiting) == 1:
            await waiting[0]
        elif waiting:
            await asyncio.gather(*waiting)
        data = [item for slot in slots for item in slot.data]
        error_items = [item for slot in slots for item in slot.errors]
        statuses = [status for slot in slots for status in slot.statuses]
        return reply(data, error_items, statuses[0] if error_items and not data else 200)

    async def _start(self, task: Any, position: int, base_url: str, entry: Entry | None) -> Slot:
        slot = Slot()
        task_type = task.get("taskType") if isinstance(task, dict) else None
        task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
        try:
            self.service.check_task_type(task)
            if task_type == "authentication":
                return slot
            if task_type == "ping":
                slot.data.append({"taskType": "ping", "pong": True})
                return slot
            self.service.check(task_type, task)
            if entry is not None:
                entry.ids.append(task_uuid)
            if task_type == "imageInference":
                job = await self.service.submit(task, base_url)
                if task.get("deliveryMethod") == "async":
                    slot.data.append({"taskType": task_type, "taskUUID": task_uuid})
                else:
                    slot.job = job
            elif task_type == "getResponse":
                slot.data, slot.errors = await self.service.poll(task_uuid)
                slot.statuses = [400] * len(slot.errors)
            else:
                slot.data.append(await self.service.upload(task_type, task, base_url))
        except RunwareError as exc:
            _record(entry, exc.violations, f"/{position}")
            slot.fail(exc.about(task_type if isinstance(task_type, str) else None, _text(task_uuid)))
        return slot

    async def _finish(self, slot: Slot) -> None:
        assert slot.job is not None
        await self.service.wait(slot.job)
        slot.data = await self.service.results(slot.job)
        failure = self.service.failure(slot.job)
        if failure is not None:
            slot.fail(failure)


async def not_found(request: Request) -> Response:
    _entry(request, "unknown")
    return error_reply(errors.not_found(request.url.path))


def routes(service: RunwareService, max_body: int) -> list[BaseRoute]:
    return [
        Route("/v1", RestEndpoint(service, max_body).handle, methods=ALL_METHODS),
        Route("/{path:path}", not_found, methods=ALL_METHODS),
    ]


def _entry(request: Request, route: str) -> Entry | None:
    entry: Entry | None = request.scope.get("state", {}).get(JOURNAL_STATE)
    if entry is not None:
        entry.surface = SURFACE
        entry.route = route
    return entry


def _record(entry: Entry | None, violations: list[Any], prefix: str) -> None:
    if entry is not None:
        entry.violations.extend({**v.as_dict(), "path": prefix + v.path} for v in violations)


def _api_key(request: Request, tasks: list[Any]) -> object:
    for task in tasks:
        if isinstance(task, dict) and task.get("taskType") == "authentication":
            return task.get("apiKey")
    return bearer_token(request)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
