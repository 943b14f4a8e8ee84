"""Runware's HTTP transport: `POST /v1` with a JSON array of tasks (the WebSocket at the same path is `socket.py`)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from emulator.core.http import bearer_token
from emulator.core.seam import Call, Seam

from . import errors, wire
from .models import Exchange, RunwareService

PATH = "/v1"
ROUTE = f"POST {PATH}"


def routes(service: RunwareService, seam: Seam, socket: BaseRoute) -> list[BaseRoute]:
    async def tasks(call: Call) -> Response:
        if call.request.method != "POST":
            raise errors.named("methodNotAllowed", method=call.request.method)
        array = wire.tasks(await call.json())
        key = wire.api_key(array, bearer_token(call.request))
        call.key(key)
        api_key = service.authenticate(key)
        exchange = Exchange(ROUTE, call.entry, call.admit, call.base_url, api_key)
        return wire.response(await service.complete(array, exchange))

    return [seam.route(PATH, ROUTE, tasks), socket, seam.fallback()]
