"""EvoLink's HTTP transport: `POST /v1/images/generations` and `GET /v1/tasks/{task_id}`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from emulator.core.faults import Context
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
from .errors import EvoLinkError
from .models import SURFACE, EvoLinkService

logger = logging.getLogger(__name__)
CREATE_ROUTE = "POST /v1/images/generations"
QUERY_ROUTE = "GET /v1/tasks/{task_id}"


class Endpoints:
    def __init__(self, service: EvoLinkService, max_body: int) -> None:
        self.service = service
        self.max_body = max_body

    def reply(self, body: Any, status: int = 200) -> Response:
        return Response(dumps(body), status_code=status, media_type="application/json")

    def error(self, error: EvoLinkError) -> Response:
        style = self.service.code_style
        return Response(
            dumps(error.body(style)),
            status_code=error.status(style),
            media_type="application/json",
            headers=error.headers(),
        )

    async def create(self, request: Request) -> Response:
        return await self._guarded(request, CREATE_ROUTE, "internal", self._create)

    async def query(self, request: Request) -> Response:
        return await self._guarded(request, QUERY_ROUTE, "internalQuery", self._query)

    async def unknown(self, request: Request) -> Response:
        _entry(request, "unknown")
        return self.error(EvoLinkError("notFound", f"no EvoLink endpoint at {request.method} {request.url.path}."))

    async def _guarded(
        self,
        request: Request,
        route: str,
        internal: str,
        handler: Callable[[Request, Entry | None], Awaitable[Response]],
    ) -> Response:
        entry = _entry(request, route)
        try:
            return await handler(request, entry)
        except EvoLinkError as exc:
            _record(entry, exc)
            return self.error(exc)
        except ConnectionResetError:  # a fault rule's reset: nothing may be answered
            raise
        except Exception as exc:  # a bug must still look like EvoLink to the client, and be visible
            logger.exception("unexpected error answering an EvoLink request")
            if entry is not None:
                entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
            return self.error(EvoLinkError(internal))

    async def _create(self, request: Request, entry: Entry | None) -> Response:
        if request.method != "POST":
            raise EvoLinkError("methodNotAllowed", f"use POST for {request.url.path}.")
        token = self._authenticate(request, entry, "unauthorized")
        try:
            body = parse_json(await read_body(request, self.max_body))
        except BodyTooLarge as exc:
            raise EvoLinkError(
                "bodyTooLarge", f"the body exceeds the {exc.limit} bytes this emulator accepts."
            ) from None
        except ValueError as exc:
            raise errors.invalid_json(str(exc)) from None
        context = self.service.context(CREATE_ROUTE, token, body, entry)
        if not await self._admitted(request, context):
            return Response(status_code=500)
        if not isinstance(body, dict):
            found, _ = self.service.violations(body)
            error = errors.not_an_object()
            error.violations = found
            raise error
        warnings = self.service.check(body)
        if entry is not None:
            entry.warnings.extend(warnings)
        task = await self.service.submit(body, self.service.runtime.base_url(origin(request)), context)
        if entry is not None:
            entry.ids.append(task.id)
            entry.warnings.extend(task.warnings)
        return self.reply(self.service.created_view(task))

    async def _query(self, request: Request, entry: Entry | None) -> Response:
        if request.method != "GET":
            raise EvoLinkError("methodNotAllowed", f"use GET for {request.url.path}.")
        token = self._authenticate(request, entry, "unauthorizedQuery")
        task_id = request.path_params["task_id"]
        if entry is not None:
            entry.ids.append(task_id)
        context = Context(SURFACE, QUERY_ROUTE, job=task_id, api_key=token)
        if not await self._admitted(request, context):
            return Response(status_code=500)
        task = self.service.find(task_id)
        assert task.job is not None
        return self.reply(self.service.view(task, task.job, self.service.runtime.clock.now()))

    def _authenticate(self, request: Request, entry: Entry | None, situation: str) -> str:
        token = bearer_token(request)
        if entry is not None:
            entry.api_key = mask_key(token)
        return self.service.authenticate(token, situation)

    async def _admitted(self, request: Request, context: Context) -> bool:
        """Fault rules and rate limits: False when the connection was reset instead of answered."""
        admission = await self.service.runtime.admit(context)
        if admission.disconnect is not None:
            await reset(request)
            return False
        if admission.error is not None:
            raise errors.injected(admission.error)
        if admission.limited is not None:
            raise errors.rate_limited(admission.limited)
        return True


def routes(service: EvoLinkService, max_body: int) -> list[BaseRoute]:
    endpoints = Endpoints(service, max_body)
    return [
        Route("/v1/images/generations", endpoints.create, methods=ALL_METHODS),
        Route("/v1/tasks/{task_id}", endpoints.query, methods=ALL_METHODS),
        Route("/{path:path}", endpoints.unknown, methods=ALL_METHODS),
    ]


def _entry(request: Request, route: str) -> Entry | None:
    return journal_entry(request, SURFACE, route)


def _record(entry: Entry | None, error: EvoLinkError) -> None:
    if entry is not None:
        entry.violations.extend(violation.as_dict() for violation in error.violations)
