"""Wiro's HTTP transport: signed POST calls under `/v1`, with JSON, multipart or URL-encoded bodies."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from contracts.wiro import rules
from emulator.core.faults import Context
from emulator.core.seam import Call, Seam, json_reply

from . import errors, wire
from .auth import Project
from .models import WiroService

RUN = "POST /v1/Run/{owner}/{model}"
DETAIL = "POST /v1/Task/Detail"
KILL = "POST /v1/Task/Kill"
CANCEL = "POST /v1/Task/Cancel"
FOLDER_CREATE = "POST /v1/File/FolderCreate"
UPLOAD = "POST /v1/File/Upload"


def routes(service: WiroService, seam: Seam, file_body: int) -> list[BaseRoute]:
    """Run and File/Upload carry files, so they read up to `file_body` bytes; other calls the seam's limit."""

    async def accepted(call: Call, route: str) -> tuple[Project, dict[str, Any], Context]:
        """The project, body and admission context of a call whose signature, body and admission passed."""
        if call.request.method != "POST":
            raise errors.named("urlNotParsed")
        call.key(call.request.headers.get("x-api-key"))
        authenticated = service.auth.check(call.request.headers)
        call.entry.warnings.extend(authenticated.warnings)
        if route == RUN and not rules.is_model(call.request.path_params["owner"], call.request.path_params["model"]):
            raise errors.named("modelNotFound")
        body = await wire.fields(call.request.headers, await call.body())
        context = service.context(route, authenticated.project, body, call.entry)
        await call.admit(context)
        return authenticated.project, body, context

    async def run(call: Call) -> Response:
        project, body, context = await accepted(call, RUN)
        task = await service.tasks.run(project, body, call.base_url, context)
        call.entry.ids.append(task.id)
        call.entry.warnings.extend(task.warnings)
        return json_reply(wire.run_reply(task.id, task.token))

    async def detail(call: Call) -> Response:
        project, body, _ = await accepted(call, DETAIL)
        return _task(call, wire.detail_reply(service.tasks.detail(project, body)))

    async def kill(call: Call) -> Response:
        project, body, _ = await accepted(call, KILL)
        return _task(call, wire.action_reply(service.tasks.kill(project, body)))

    async def cancel(call: Call) -> Response:
        project, body, _ = await accepted(call, CANCEL)
        return _task(call, wire.action_reply(service.tasks.cancel(project, body)))

    async def folder_create(call: Call) -> Response:
        project, body, _ = await accepted(call, FOLDER_CREATE)
        return json_reply(wire.list_reply(service.files.create_folder(project, body)))

    async def upload(call: Call) -> Response:
        project, body, _ = await accepted(call, UPLOAD)
        record = await service.files.upload(project, body, call.base_url)
        call.entry.ids.append(record["id"])
        return json_reply(wire.list_reply(record))

    return [
        seam.route("/v1/Run/{owner}/{model}", RUN, run, max_body=file_body),
        seam.route("/v1/Task/Detail", DETAIL, detail),
        seam.route("/v1/Task/Kill", KILL, kill),
        seam.route("/v1/Task/Cancel", CANCEL, cancel),
        seam.route("/v1/File/FolderCreate", FOLDER_CREATE, folder_create),
        seam.route("/v1/File/Upload", UPLOAD, upload, max_body=file_body),
        seam.fallback(),
    ]


def _task(call: Call, reply: dict[str, Any]) -> Response:
    """A Task/* reply, its task's id journaled."""
    call.entry.ids.append(reply["tasklist"][0]["id"])
    return json_reply(reply)
