"""Runware's routes: `POST /v1` with a JSON array of tasks, and the WebSocket at the same path."""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from emulator.core.http import (
    ALL_METHODS,
    BodyTooLarge,
    bearer_token,
    dumps,
    journal_entry,
    origin,
    parse_json,
    read_body,
)
from emulator.core.journal import Entry, mask_key
from emulator.core.sockets import reset

from . import errors
from .channel import Channel, Sessions
from .errors import RunwareError
from .models import SURFACE, Outcome, RunwareService

logger = logging.getLogger(__name__)
YIELD_EVERY = 16


def reply(data: list[dict[str, Any]], failures: list[RunwareError], status: int = 200) -> Response:
    body: dict[str, Any] = {}
    if data or not failures:
        body["data"] = data
    if failures:
        body["errors"] = [error.item() for error in failures]
    headers = {}
    retry_after = next((error.retry_after for error in failures if error.retry_after is not None), None)
    if retry_after is not None and status >= 400:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_reply(error: RunwareError) -> Response:
    return reply([], [error], error.status)


class RestEndpoint:
    def __init__(self, service: RunwareService, max_body: int) -> None:
        self.service = service
        self.max_body = max_body

    async def handle(self, request: Request) -> Response:
        entry = _entry(request, "POST /v1")
        try:
            return await self._handle(request, entry)
        except ConnectionResetError:  # a fault rule's reset: nothing may be answered
            raise
        except Exception as exc:  # a bug must still look like Runware to the client, and be visible
            logger.exception("unexpected error answering a Runware request")
            if entry is not None:
                entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
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
        try:
            tasks = self.service.check_array(tasks)
        except RunwareError as exc:
            if entry is not None:
                entry.add_violations(v.as_dict() for v in exc.violations)
            return error_reply(exc)
        key = _api_key(request, tasks)
        if entry is not None:
            entry.api_key = mask_key(key if isinstance(key, str) else None)
        try:
            self.service.authenticate(key)
        except RunwareError as exc:
            return error_reply(exc)
        base_url = self.service.runtime.base_url(origin(request))
        outcomes = []
        for position, task in enumerate(tasks):
            outcome = await self.service.start(task, base_url, api_key=key if isinstance(key, str) else None)
            if entry is not None:
                outcome.record(entry, f"/{position}")
            if outcome.disconnect is not None:
                await reset(request)
                return Response(status_code=500)
            outcomes.append(outcome)
            if position % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a long array must not starve other clients
        waiting = [self._finish(outcome) for outcome in outcomes if outcome.job is not None]
        if len(waiting) == 1:
            await waiting[0]
        elif waiting:
            await asyncio.gather(*waiting)
        data = [item for outcome in outcomes for item in outcome.data]
        failures = [error for outcome in outcomes for error in outcome.errors]
        if failures and (not data or not self.service.mixed_replies):
            return reply([], failures, failures[0].status)
        return reply(data, failures)

    async def _finish(self, outcome: Outcome) -> None:
        assert outcome.job is not None
        await self.service.wait(outcome.job)
        outcome.data = await self.service.results(outcome.job)
        failure = self.service.failure(outcome.job)
        if failure is not None:
            outcome.errors.append(failure)


async def not_found(request: Request) -> Response:
    _entry(request, "unknown")
    return error_reply(errors.not_found(request.url.path))


def routes(service: RunwareService, sessions: Sessions, *, max_body: int, batch_results: bool) -> list[BaseRoute]:
    async def socket(websocket: WebSocket) -> None:
        await Channel(websocket, service, sessions, max_frame=max_body, batch_results=batch_results).run()

    return [
        Route("/v1", RestEndpoint(service, max_body).handle, methods=ALL_METHODS),
        WebSocketRoute("/v1", socket),
        Route("/{path:path}", not_found, methods=ALL_METHODS),
    ]


def _entry(request: Request, route: str) -> Entry | None:
    return journal_entry(request, SURFACE, route)


def _api_key(request: Request, tasks: list[Any]) -> object:
    for task in tasks:
        if isinstance(task, dict) and task.get("taskType") == "authentication":
            return task.get("apiKey")
    return bearer_token(request)
