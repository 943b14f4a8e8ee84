"""EvoLink's HTTP transport: `POST /v1/images/generations` and `GET /v1/tasks/{task_id}`."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from emulator.core.faults import Context
from emulator.core.http import bearer_token
from emulator.core.seam import Call, Seam, json_reply

from . import errors
from .models import SURFACE, EvoLinkService

CREATE_PATH = "/v1/images/generations"
QUERY_PATH = "/v1/tasks/{task_id}"
CREATE_ROUTE = f"POST {CREATE_PATH}"
QUERY_ROUTE = f"GET {QUERY_PATH}"


def routes(service: EvoLinkService, seam: Seam) -> list[BaseRoute]:
    async def create(call: Call) -> Response:
        _method(call, "POST")
        token = _authenticate(service, call, "unauthorized")
        body = await call.json()
        context = service.context(CREATE_ROUTE, token, body, call.entry)
        await call.admit(context)
        created = await service.create(body, call.base_url, context)
        call.entry.ids.append(created.id)
        call.entry.warnings.extend(created.warnings)
        return json_reply(created.view)

    async def query(call: Call) -> Response:
        _method(call, "GET")
        token = _authenticate(service, call, "unauthorizedQuery")
        task_id = call.request.path_params["task_id"]
        call.entry.ids.append(task_id)
        await call.admit(Context(SURFACE, QUERY_ROUTE, job=task_id, api_key=token))
        return json_reply(service.query(task_id))

    return [
        seam.route(CREATE_PATH, CREATE_ROUTE, create),
        seam.route(QUERY_PATH, QUERY_ROUTE, query),
        seam.fallback(),
    ]


def _method(call: Call, method: str) -> None:
    if call.request.method != method:
        raise errors.method_not_allowed(method, call.request.url.path)


def _authenticate(service: EvoLinkService, call: Call, situation: str) -> str:
    token = bearer_token(call.request)
    call.key(token)
    return service.authenticate(token, situation)
