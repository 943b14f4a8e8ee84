"""Wiro's transport: POST endpoints under `/v1` (JSON, multipart or URL-encoded bodies) and the task WebSocket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import FormParser, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from contracts.wiro import rules
from emulator.core.faults import Context
from emulator.core.http import (
    ALL_METHODS,
    BodyTooLarge,
    dumps,
    journal_entry,
    origin,
    parse_json,
    read_body,
)
from emulator.core.journal import Entry, mask_key
from emulator.core.runtime import Admission
from emulator.core.sockets import drop, reset

from . import errors, models
from .auth import Project
from .errors import WiroError
from .models import SURFACE, Upload, WiroService

logger = logging.getLogger(__name__)
# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_SLACK = 2**20
# Far above the 14 inputImage entries Wiro accepts; the contract reports the real limit.
MAX_FILE_PARTS = 64
SOCKET = rules.RULES["socket"]


class Disconnected(Exception):
    """A fault rule asked to reset the connection instead of answering."""


Action = Callable[[Request, Project, Entry | None], Awaitable[dict[str, Any]]]


def reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


class Endpoints:
    def __init__(self, service: WiroService, max_body: int, welcome: bool) -> None:
        self.service = service
        self.max_body = max_body
        self.file_body = max(max_body, rules.UPLOAD_MAX_BYTES + MULTIPART_SLACK)
        self.welcome = welcome

    # HTTP ------------------------------------------------------------------------------------------

    async def run(self, request: Request) -> Response:
        return await self._answer(request, "POST /v1/Run/{owner}/{model}", self._run)

    async def detail(self, request: Request) -> Response:
        return await self._answer(request, "POST /v1/Task/Detail", self._detail)

    async def kill(self, request: Request) -> Response:
        return await self._answer(request, "POST /v1/Task/Kill", self._kill)

    async def cancel(self, request: Request) -> Response:
        return await self._answer(request, "POST /v1/Task/Cancel", self._cancel)

    async def folder_create(self, request: Request) -> Response:
        return await self._answer(request, "POST /v1/File/FolderCreate", self._folder_create)

    async def upload(self, request: Request) -> Response:
        return await self._answer(request, "POST /v1/File/Upload", self._upload)

    async def not_found(self, request: Request) -> Response:
        _entry(request, "unknown")
        error = errors.url_not_parsed()
        return reply(error.body(), error.status)

    async def _answer(self, request: Request, route: str, action: Action) -> Response:
        entry = _entry(request, route)
        try:
            if request.method != "POST":
                raise errors.url_not_parsed()
            if entry is not None:
                entry.api_key = mask_key(request.headers.get("x-api-key"))
            authenticated = self.service.auth.check(request.headers)
            if entry is not None:
                entry.warnings.extend(authenticated.warnings)
            return reply(await action(request, authenticated.project, entry))
        except Disconnected:
            await reset(request)
            return Response(status_code=500)
        except WiroError as exc:
            if entry is not None:
                entry.add_violations(violation.as_dict() for violation in exc.violations)
            return reply(exc.body(), exc.status, exc.headers())
        except ConnectionResetError:  # a fault rule's reset: nothing may be answered
            raise
        except Exception as exc:  # a bug must still look like Wiro to the client, and be visible
            logger.exception("unexpected error answering a Wiro request")
            if entry is not None:
                entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
            error = errors.internal()
            return reply(error.body(), error.status)

    async def _admit(self, route: str, project: Project, body: Mapping[str, Any], entry: Entry | None) -> Context:
        """Fault rules and rate limits for this request; raises for an injected error, a limit or a reset."""
        context = self.service.context(route, project, body, entry)
        admission = await self.service.runtime.admit(context)
        if admission.disconnect is not None:
            raise Disconnected
        if admission.error is not None:
            raise errors.injected(admission.error)
        if admission.limited is not None:
            raise errors.limited(admission.limited)
        return context

    async def _run(self, request: Request, project: Project, entry: Entry | None) -> dict[str, Any]:
        self.service.check_model(request.path_params["owner"], request.path_params["model"])
        body = await self._fields(request, self.file_body)
        context = await self._admit("POST /v1/Run/{owner}/{model}", project, body, entry)
        task = await self.service.run(project, body, self.service.runtime.base_url(origin(request)), context)
        if entry is not None:
            entry.ids.append(task.id)
            entry.warnings.extend(task.warnings)
        return models.run_reply(task)

    async def _detail(self, request: Request, project: Project, entry: Entry | None) -> dict[str, Any]:
        body = await self._fields(request, self.max_body)
        await self._admit("POST /v1/Task/Detail", project, body, entry)
        task = self.service.find(project, body)
        _identify(entry, task)
        return models.detail_reply(self.service.record(task))

    async def _kill(self, request: Request, project: Project, entry: Entry | None) -> dict[str, Any]:
        body = await self._fields(request, self.max_body)
        await self._admit("POST /v1/Task/Kill", project, body, entry)
        task = self.service.kill(project, body)
        _identify(entry, task)
        return models.action_reply(self.service.record(task))

    async def _cancel(self, request: Request, project: Project, entry: Entry | None) -> dict[str, Any]:
        body = await self._fields(request, self.max_body)
        await self._admit("POST /v1/Task/Cancel", project, body, entry)
        task = self.service.cancel(project, body)
        _identify(entry, task)
        return models.action_reply(self.service.record(task))

    async def _folder_create(self, request: Request, project: Project, entry: Entry | None) -> dict[str, Any]:
        body = await self._fields(request, self.max_body)
        await self._admit("POST /v1/File/FolderCreate", project, body, entry)
        return models.list_reply(self.service.create_folder(project, body))

    async def _upload(self, request: Request, project: Project, entry: Entry | None) -> dict[str, Any]:
        body = await self._fields(request, self.file_body)
        await self._admit("POST /v1/File/Upload", project, body, entry)
        record = await self.service.upload(project, body, self.service.runtime.base_url(origin(request)))
        if entry is not None:
            entry.ids.append(record["id"])
        return models.list_reply(record)

    async def _fields(self, request: Request, limit: int) -> dict[str, Any]:
        """The body as a JSON-like object, whatever its encoding."""
        try:
            raw = await read_body(request, limit)
        except BodyTooLarge as exc:
            raise errors.body_too_large(exc.limit) from None
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
            return models.form_fields(await _form(request.headers, raw, multipart=kind == "multipart/form-data"))
        if not raw.strip():
            return {}
        try:
            body = parse_json(raw)
        except ValueError:
            raise errors.parameters_invalid() from None
        if not isinstance(body, dict):
            raise errors.parameters_invalid()
        return body

    # WebSocket -------------------------------------------------------------------------------------

    async def socket(self, websocket: WebSocket) -> None:
        await websocket.accept()
        lock = asyncio.Lock()
        streams: dict[str, asyncio.Task[None]] = {}

        async def send(frame: dict[str, Any]) -> None:
            async with lock:
                await websocket.send_text(dumps(frame).decode())

        try:
            if self.welcome:
                await send(dict(SOCKET["connected"]))
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                disconnect = await self._register(websocket.url.path, text, send, streams)
                if disconnect == "close":
                    await websocket.close(1000)
                    break
                if disconnect is not None:
                    await drop(websocket)
                    break
        except Exception:  # the client went away mid-send; nothing to answer
            logger.debug("Wiro socket closed", exc_info=True)
        finally:
            for stream in streams.values():
                stream.cancel()
            await asyncio.gather(*streams.values(), return_exceptions=True)

    async def _register(
        self,
        path: str,
        text: str,
        send: Callable[[dict[str, Any]], Awaitable[None]],
        streams: dict[str, asyncio.Task[None]],
    ) -> str | None:
        """Register a task_info frame; returns how to disconnect when a fault rule says so."""
        runtime = self.service.runtime
        entry = runtime.journal.open(runtime.clock.now(), "ws", "MESSAGE", path)
        entry.surface, entry.route = SURFACE, "WS /v1"
        try:
            message = parse_json(text)
        except ValueError:
            entry.violations.append({"path": "", "message": "the frame is not JSON", "keyword": "type"})
            return None
        if not isinstance(message, dict) or message.get("type") != "task_info":
            entry.notes.append("frames other than task_info are ignored, as Wiro does")
            return None
        entry.route = "WS /v1 task_info"
        entry.violations.extend(v.as_dict() for v in models.CONTRACT.validator("socketRegister").violations(message))
        token = message.get("tasktoken")
        if not isinstance(token, str) or not token:
            await send(_socket_error("missingToken"))
            return None
        task = self.service.by_token(token)
        if task is None:
            await send(_socket_error("unknownToken"))
            return None
        entry.ids.append(task.id)
        admission = await runtime.admit(
            Context(SURFACE, entry.route, job=token, api_key=task.project.key, transport="ws")
        )
        if admission.disconnect is not None:
            return admission.disconnect
        error = _refusal(admission)
        if error is not None:
            await send({"type": "error", "message": error.message, "result": False})
            return None
        if token not in streams:
            streams[token] = asyncio.get_running_loop().create_task(self._forward(task, send))
        return None

    async def _forward(self, task: models.WiroTask, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        try:
            async for frame in self.service.frames(task):
                await send(frame)
        except Exception:  # the connection closed under us
            logger.debug("Wiro socket stream ended", exc_info=True)


def routes(service: WiroService, max_body: int, welcome: bool) -> list[BaseRoute]:
    endpoints = Endpoints(service, max_body, welcome)
    return [
        Route("/v1/Run/{owner}/{model}", endpoints.run, methods=ALL_METHODS),
        Route("/v1/Task/Detail", endpoints.detail, methods=ALL_METHODS),
        Route("/v1/Task/Kill", endpoints.kill, methods=ALL_METHODS),
        Route("/v1/Task/Cancel", endpoints.cancel, methods=ALL_METHODS),
        Route("/v1/File/FolderCreate", endpoints.folder_create, methods=ALL_METHODS),
        Route("/v1/File/Upload", endpoints.upload, methods=ALL_METHODS),
        WebSocketRoute("/v1", endpoints.socket),
        Route("/{path:path}", endpoints.not_found, methods=ALL_METHODS),
    ]


async def _form(headers: Headers, raw: bytes, *, multipart: bool) -> list[tuple[str, str | Upload]]:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield raw

    parser: MultiPartParser | FormParser
    if multipart:
        parser = MultiPartParser(headers, stream(), max_files=MAX_FILE_PARTS, max_part_size=rules.UPLOAD_MAX_BYTES)
    else:
        parser = FormParser(headers, stream(), max_part_size=rules.UPLOAD_MAX_BYTES)
    try:
        form = await parser.parse()
    except Exception:
        raise errors.parameters_invalid() from None
    pairs: list[tuple[str, str | Upload]] = []
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                content_type = value.content_type or "application/octet-stream"
                pairs.append((name, Upload(value.filename or "", content_type, await value.read())))
            else:
                pairs.append((name, value))
    finally:
        await form.close()
    return pairs


def _entry(request: Request, route: str) -> Entry | None:
    return journal_entry(request, SURFACE, route)


def _identify(entry: Entry | None, task: models.WiroTask) -> None:
    if entry is not None:
        entry.ids.append(task.id)


def _refusal(admission: Admission) -> WiroError | None:
    if admission.error is not None:
        return errors.injected(admission.error)
    if admission.limited is not None:
        return errors.limited(admission.limited)
    return None


def _socket_error(name: str) -> dict[str, Any]:
    return {"type": "error", "message": SOCKET["errors"][name], "result": False}
