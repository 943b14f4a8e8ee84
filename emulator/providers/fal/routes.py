"""fal's HTTP transport: the queue (`/queue/...`), direct runs (`/run/{app_id}`) and the client proxy (`/proxy`)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response
from starlette.routing import BaseRoute

from contracts.fal import rules
from emulator.core.faults import Context
from emulator.core.seam import Call, Seam, json_reply

from . import errors, wire
from .models import SURFACE, FalService, Where, requests

QUEUE_PATH = "/queue/{rest:path}"
RUN_PATH = "/run/{rest:path}"
PROXY_PATH = "/proxy"
SUBMIT = "POST /queue/{app_id}"
STATUS = "GET /queue/{owner}/{alias}/requests/{request_id}/status"
RESULT = "GET /queue/{owner}/{alias}/requests/{request_id}"
CANCEL = "PUT /queue/{owner}/{alias}/requests/{request_id}/cancel"
RUN = "POST /run/{app_id}"
ROUTES = {"submit": SUBMIT, "status": STATUS, "result": RESULT, "cancel": CANCEL}
# The methods the proxy protocol carries: submit and run (POST), status and result (GET), cancel (PUT).
PROXY_METHODS = ("GET", "POST", "PUT")
METHODS = {"submit": "POST", "status": "GET", "result": "GET", "cancel": "PUT"}


def routes(service: FalService, seam: Seam, prefix: str) -> list[BaseRoute]:
    def where(call: Call, app_id: str) -> Where:
        return Where(app_id, f"{call.base_url}{prefix}/queue", call.base_url)

    async def queue(call: Call, rest: str, query: Mapping[str, str], key: str | None = None) -> Response:
        target = wire.queue_target(rest, call.request.method, call.request.url.path)
        call.entry.route = ROUTES[target.operation]
        if call.request.method != METHODS[target.operation]:
            raise errors.request_error("methodNotAllowed", method=call.request.method, path=call.request.url.path)
        key = key or _authenticate(service, call)
        if target.operation == "submit":
            return await submit(call, target.app, query, key)
        call.entry.ids.append(target.request_id)
        await call.admit(Context(SURFACE, call.entry.route, job=target.request_id, api_key=key))
        if target.operation == "status":
            status, body = service.status(target.app, target.request_id, wire.with_logs(query))
            return json_reply(body, status, wire.request_id_header(target.request_id))
        if target.operation == "cancel":
            status, body = service.cancel(target.app, target.request_id)
            return json_reply(body, status, wire.request_id_header(target.request_id))
        output = await service.result(target.app, target.request_id)
        return json_reply(output, headers=wire.request_id_header(target.request_id))

    async def submit(call: Call, app_id: str, query: Mapping[str, str], key: str) -> Response:
        service.app(app_id)
        body = await call.json()
        context = service.context(SUBMIT, key, body, app_id, call.entry)
        await call.admit(context)
        webhook = query.get("fal_webhook")
        if webhook is not None:
            _check_webhook(service, call, webhook)
        request = await service.submit(body, where(call, app_id), context, webhook)
        call.entry.ids.append(request.id)
        call.entry.warnings.extend(request.warnings)
        return json_reply(requests.submitted(request), headers=wire.request_id_header(request.id))

    async def run(call: Call, rest: str, key: str | None = None) -> Response:
        call.entry.route = RUN
        if call.request.method != "POST":
            raise errors.request_error("methodNotAllowed", method=call.request.method, path=call.request.url.path)
        key = key or _authenticate(service, call)
        app_id = service.app(rest.strip("/"))
        body = await call.json()
        context = service.context(RUN, key, body, app_id, call.entry)
        await call.admit(context)
        request = await service.submit(body, where(call, app_id), context)
        call.entry.ids.append(request.id)
        call.entry.warnings.extend(request.warnings)
        job = await service.wait(request)
        return json_reply(await service.outcome(request, job), headers=wire.request_id_header(request.id))

    async def queue_route(call: Call) -> Response:
        return await queue(call, call.request.path_params["rest"], call.request.query_params)

    async def run_route(call: Call) -> Response:
        return await run(call, call.request.path_params["rest"])

    async def proxy(call: Call) -> Response:
        """The @fal-ai/client proxy protocol: the real URL is in `x-fal-target-url`. A proxy holds the key, so a
        request without `Authorization` is the proxy's own."""
        call.entry.route = f"{call.request.method} {PROXY_PATH}"
        if call.request.method not in PROXY_METHODS:
            raise errors.request_error("methodNotAllowed", method=call.request.method, path=call.request.url.path)
        target = wire.proxied(call.request.headers.get(rules.RULES["proxy"]["targetHeader"]))
        key = _authenticate(service, call) if call.request.headers.get("authorization") else "proxy"
        call.entry.notes.append(f"proxied to {target.kind} {target.rest}")
        if target.kind == "queue":
            return await queue(call, target.rest, target.query, key)
        return await run(call, target.rest, key)

    return [
        seam.route(QUEUE_PATH, SUBMIT, queue_route),
        seam.route(RUN_PATH, RUN, run_route),
        seam.route(PROXY_PATH, "POST /proxy", proxy),
        seam.fallback(),
    ]


def _authenticate(service: FalService, call: Call) -> str:
    key = service.authenticate(call.request.headers.get("authorization"))
    call.key(key)
    return key


def _check_webhook(service: FalService, call: Call, url: str) -> None:
    """Production calls only public HTTPS targets: refused under --strict, a journal warning otherwise."""
    targets = service.runtime.targets
    refused = targets.refused(url)
    if refused:
        item = errors.item(["query", "fal_webhook"], refused[0].detail, "invalid_webhook_url")
        raise errors.model_error(422, [item])
    call.entry.warnings.extend(targets.warnings(url))
