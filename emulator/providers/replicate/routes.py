"""Replicate's HTTP transport: the `/v1` API of api.replicate.com, as far as bytedance/seedream-4 uses it.

One path answers several methods, each its own route in the journal (`GET /v1/predictions`,
`POST /v1/predictions`); any other method is Replicate's 405. Every route but the web page needs a key, and
is admitted (fault rules, limits) before it runs; a create is admitted once its body is read, since rules
match on the prompt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute

from contracts.replicate import rules
from emulator.core.faults import Context
from emulator.core.http import bearer_token
from emulator.core.seam import Call, Seam, json_reply

from . import errors, wire
from .models import SURFACE, Answer, ReplicateService

CREATE_FOR_MODEL = "POST /v1/models/{owner}/{name}/predictions"
CREATE_FOR_VERSION = "POST /v1/predictions"
CREATES = frozenset({CREATE_FOR_MODEL, CREATE_FOR_VERSION})

# A route's handler: the request, and the key it authenticated with (None on the web page).
Handler = Callable[[Call, str | None], Awaitable[Response]]


def routes(service: ReplicateService, seam: Seam, uploads: Seam) -> list[BaseRoute]:
    """Every route of the API; `uploads` is the seam of the files API, whose bodies are bounded by the file limit."""
    predictions, files, catalog = service.predictions, service.files, service.catalog

    def api(call: Call) -> str:
        return call.base_url + service.prefix

    async def create(call: Call, key: str | None, route: str, schema: str) -> Response:
        header = call.request.headers.get("prefer")
        hold = rules.parse_prefer(header) if header is not None else rules.Preference()
        cancel_after = wire.cancel_after(call.request.headers.get("cancel-after"))
        body = await call.json()
        context = predictions.context(route, key, body, call.entry)
        await call.admit(context)
        created = await predictions.create(
            schema, body, hold, base=call.base_url, api_base=api(call), cancel_after=cancel_after, context=context
        )
        return _send(call, created)

    async def create_for_model(call: Call, key: str | None) -> Response:
        catalog.require(call.request.path_params["owner"], call.request.path_params["name"])
        return await create(call, key, CREATE_FOR_MODEL, "modelPredictionRequest")

    async def create_for_version(call: Call, key: str | None) -> Response:
        return await create(call, key, CREATE_FOR_VERSION, "versionPredictionRequest")

    async def get(call: Call, key: str | None) -> Response:
        return _send(
            call, await predictions.current(call.request.path_params["prediction_id"], call.base_url, api(call))
        )

    async def cancel(call: Call, key: str | None) -> Response:
        return _send(
            call, await predictions.cancel(call.request.path_params["prediction_id"], call.base_url, api(call))
        )

    async def list_predictions(call: Call, key: str | None) -> Response:
        query = call.request.query_params
        page = await predictions.page(
            after=wire.instant(query, "created_after"),
            before=wire.instant(query, "created_before"),
            source=query.get("source"),
            cursor=query.get("cursor"),
            base=call.base_url,
            api_base=api(call),
        )
        return json_reply(wire.page_body(page, f"{api(call)}/v1/predictions", query))

    async def web_page(call: Call, key: str | None) -> Response:
        prediction = await predictions.web(call.request.path_params["prediction_id"], call.base_url, api(call))
        return HTMLResponse(wire.web_page(prediction))

    async def model(call: Call, key: str | None) -> Response:
        params = call.request.path_params
        return json_reply(catalog.model(params["owner"], params["name"]))

    async def versions(call: Call, key: str | None) -> Response:
        params = call.request.path_params
        return json_reply(catalog.versions(params["owner"], params["name"]))

    async def version(call: Call, key: str | None) -> Response:
        params = call.request.path_params
        return json_reply(catalog.version(params["owner"], params["name"], params["version_id"]))

    async def upload(call: Call, key: str | None) -> Response:
        if not wire.is_multipart(call.request):
            raise errors.invalid_upload("notMultipart")
        sent = await wire.upload(call.request, await call.body())
        return _send(call, files.create(sent.data, sent.filename, sent.content_type, sent.metadata, api(call)))

    async def list_files(call: Call, key: str | None) -> Response:
        query = call.request.query_params
        page = files.page(query.get("cursor"), api(call))
        return json_reply(wire.page_body(page, f"{api(call)}/v1/files", query))

    async def get_file(call: Call, key: str | None) -> Response:
        return _send(call, files.get(call.request.path_params["file_id"], api(call)))

    async def delete_file(call: Call, key: str | None) -> Response:
        call.entry.ids.append(files.delete(call.request.path_params["file_id"]))
        return Response(status_code=204)

    async def download(call: Call, key: str | None) -> Response:
        found = files.download(call.request.path_params["file_id"])
        call.entry.ids.append(found.id)
        return Response(found.data, media_type=found.content_type, headers=wire.attachment(found.name))

    async def secret(call: Call, key: str | None) -> Response:
        return json_reply({"key": service.webhooks.secret})

    async def account(call: Call, key: str | None) -> Response:
        return json_reply(catalog.account())

    def resource(path: str, handlers: Mapping[str, Handler], *, on: Seam = seam, auth: bool = True) -> BaseRoute:
        template = path.replace("{prediction_id}", "{id}").replace("{file_id}", "{id}")
        allowed = sorted(handlers)

        async def dispatch(call: Call) -> Response:
            method = "GET" if call.request.method == "HEAD" else call.request.method
            route = call.entry.route = f"{method} {template}"
            handler = handlers.get(method)
            if handler is None:
                raise errors.method_not_allowed(call.request.method, allowed)
            key = _authenticate(service, call) if auth else None
            if route not in CREATES:
                job = call.request.path_params.get("prediction_id")
                await call.admit(Context(SURFACE, route, job=job, api_key=key))
            return await handler(call, key)

        return on.route(path, template, dispatch)

    return [
        resource("/v1/models/{owner}/{name}/predictions", {"POST": create_for_model}),
        resource("/v1/models/{owner}/{name}/versions/{version_id}", {"GET": version}),
        resource("/v1/models/{owner}/{name}/versions", {"GET": versions}),
        resource("/v1/models/{owner}/{name}", {"GET": model}),
        resource("/v1/predictions", {"GET": list_predictions, "POST": create_for_version}),
        resource("/v1/predictions/{prediction_id}/cancel", {"POST": cancel}),
        resource("/v1/predictions/{prediction_id}", {"GET": get}),
        resource("/v1/files", {"GET": list_files, "POST": upload}, on=uploads),
        resource("/v1/files/{file_id}/download", {"GET": download}),
        resource("/v1/files/{file_id}", {"GET": get_file, "DELETE": delete_file}),
        resource("/v1/webhooks/default/secret", {"GET": secret}),
        resource("/v1/account", {"GET": account}),
        resource("/p/{prediction_id}", {"GET": web_page}, auth=False),
        seam.fallback(),
    ]


def _authenticate(service: ReplicateService, call: Call) -> str:
    token = service.authenticate(bearer_token(call.request, "Bearer", "Token"))
    call.key(token)
    return token


def _send(call: Call, answer: Answer) -> Response:
    """The answer's JSON, its ids and remarks written to the request's journal entry."""
    call.entry.ids.extend(answer.ids)
    call.entry.warnings.extend(answer.warnings)
    call.entry.notes.extend(answer.notes)
    return json_reply(answer.body, answer.status, answer.headers)
