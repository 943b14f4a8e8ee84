"""Ark's HTTP transport: `POST /api/v3/images/generations`, answered in JSON or, with `stream: true`, as
Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from emulator.core.http import bearer_token
from emulator.core.seam import Call, Seam, json_reply

from . import errors, wire
from .models import ArkService, Generation

BASE = "/api/v3"
PATH = f"{BASE}/images/generations"
ROUTE = f"POST {PATH}"


def routes(service: ArkService, seam: Seam) -> list[BaseRoute]:
    async def generate(call: Call) -> Response:
        if call.request.method != "POST":
            raise errors.method_not_allowed(call.request.method, call.request.url.path)
        token = bearer_token(call.request)
        call.key(token)
        api_key = service.authenticate(token)
        body = await call.json()
        context = service.context(ROUTE, api_key, body, call.entry)
        await call.admit(context)
        generation = await service.generate(body, call.base_url, context, call.entry)
        if isinstance(body, dict) and body.get("stream") is True:
            # Refusals above are JSON with their status; once generation starts, the reply is the stream.
            return StreamingResponse(_stream(service, generation), media_type=wire.MEDIA_TYPE, headers=wire.HEADERS)
        return json_reply(await service.reply(generation))

    return [seam.route(PATH, ROUTE, generate), seam.fallback()]


async def _stream(service: ArkService, generation: Generation) -> AsyncIterator[bytes]:
    async for event in service.events(generation):
        yield wire.event(event)
    yield wire.DONE
