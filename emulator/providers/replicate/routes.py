"""Replicate's HTTP transport: the `/v1` API of api.replicate.com, as far as bytedance/seedream-4 uses it."""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message

from contracts.replicate import rules
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
from emulator.core.sockets import reset

from . import errors
from .errors import ReplicateProblem
from .models import SURFACE, FileRecord, Page, Prediction, ReplicateService, paginate

logger = logging.getLogger(__name__)
NOTES: Mapping[str, str] = rules.RULES["journal"]["notes"]
MULTIPART_OVERHEAD = 1024 * 1024
JSON = "application/json"


@dataclass
class Disconnected(Exception):
    """A fault rule asked to reset the connection instead of answering."""


@dataclass
class Call:
    request: Request
    entry: Entry | None
    base: str
    api_base: str
    route: str = ""
    api_key: str | None = None

    @property
    def params(self) -> Mapping[str, str]:
        return self.request.path_params

    def warn(self, message: str) -> None:
        """Leniency: served only because the emulator is kinder than Replicate (the harness counts these)."""
        if self.entry is not None:
            self.entry.warnings.append(message)

    def note(self, message: str) -> None:
        """Anything else worth knowing about the request (ignored preferences, emulator quirks)."""
        if self.entry is not None:
            self.entry.notes.append(message)


Handler = Callable[[Call], Awaitable[Response]]


def reply(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type=JSON, headers=dict(headers or {}))


class Api:
    def __init__(self, service: ReplicateService, max_body: int) -> None:
        self.service = service
        self.max_body = max_body

    def routes(self) -> list[BaseRoute]:
        return [
            self.endpoint("/v1/models/{owner}/{name}/predictions", {"POST": self.create_for_model}),
            self.endpoint("/v1/models/{owner}/{name}/versions/{version_id}", {"GET": self.version}),
            self.endpoint("/v1/models/{owner}/{name}/versions", {"GET": self.versions}),
            self.endpoint("/v1/models/{owner}/{name}", {"GET": self.model}),
            self.endpoint("/v1/predictions", {"GET": self.list_predictions, "POST": self.create_for_version}),
            self.endpoint("/v1/predictions/{prediction_id}/cancel", {"POST": self.cancel}),
            self.endpoint("/v1/predictions/{prediction_id}", {"GET": self.get}),
            self.endpoint("/v1/files", {"GET": self.list_files, "POST": self.upload}),
            self.endpoint("/v1/files/{file_id}/download", {"GET": self.download}),
            self.endpoint("/v1/files/{file_id}", {"GET": self.get_file, "DELETE": self.delete_file}),
            self.endpoint("/v1/webhooks/default/secret", {"GET": self.secret}),
            self.endpoint("/v1/account", {"GET": self.account}),
            self.endpoint("/p/{prediction_id}", {"GET": self.web_page}, auth=False),
            Route("/{path:path}", self.unknown, methods=ALL_METHODS),
        ]

    def endpoint(self, path: str, handlers: Mapping[str, Handler], *, auth: bool = True) -> Route:
        allowed = sorted(handlers)
        template = path.replace("{prediction_id}", "{id}").replace("{file_id}", "{id}")

        async def handle(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            entry = _entry(request, f"{method} {template}")
            try:
                handler = handlers.get(method)
                if handler is None:
                    raise errors.method_not_allowed(request.method, allowed)
                token = None
                if auth:
                    token = self.service.authenticate(request.headers.get("authorization"))
                    if entry is not None:
                        entry.api_key = mask_key(token)
                base = self.service.runtime.base_url(origin(request))
                call = Call(
                    request, entry, base, base + self.service.prefix, route=f"{method} {template}", api_key=token
                )
                if handler not in (
                    self.create_for_model,
                    self.create_for_version,
                ):  # creates admit once the body is read
                    job = request.path_params.get("prediction_id")
                    await self._admit(call, Context(SURFACE, call.route, job=job, api_key=token))
                return await handler(call)
            except Disconnected:
                await reset(request)
                return Response(status_code=500)
            except ReplicateProblem as problem:
                _record(entry, problem)
                return problem.response()
            except Exception as exc:  # a bug must still answer like Replicate, and be visible
                logger.exception("unexpected error answering a Replicate request")
                if entry is not None:
                    entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
                return errors.internal().response()

        return Route(path, handle, methods=ALL_METHODS)

    async def _admit(self, call: Call, context: Context) -> None:
        """Fault rules and rate limits; raises for an injected error, a limit or a reset."""
        admission = await self.service.runtime.admit(context)
        if admission.disconnect is not None:
            raise Disconnected
        if admission.error is not None:
            raise errors.injected(admission.error)
        if admission.limited is not None:
            raise errors.throttled(admission.limited.retry_after)

    async def unknown(self, request: Request) -> Response:
        _entry(request, "unknown")
        return errors.not_found().response()

    # --- predictions ----------------------------------------------------------------------------

    async def create_for_model(self, call: Call) -> Response:
        if not self.service.is_model(call.params["owner"], call.params["name"]):
            raise errors.not_found()
        return await self._create(call, "modelPredictionRequest")

    async def create_for_version(self, call: Call) -> Response:
        return await self._create(call, "versionPredictionRequest")

    async def _create(self, call: Call, schema: str) -> Response:
        request = call.request
        header = request.headers.get("prefer")
        hold = rules.parse_prefer(header) if header is not None else rules.Preference()
        cancel_after = _cancel_after(request.headers.get("cancel-after"))
        body = await self._json(request)
        context = self.service.context(call.route, call.api_key, body, call.entry)
        await self._admit(call, context)
        invalid, warnings = self.service.check(schema, body)
        if invalid:
            raise errors.validation(invalid)
        if "version" in body:
            self.service.check_version(body["version"])
        for message in hold.notes:
            call.note(message)
        for message in warnings:
            call.warn(message)
        _remarks(call, body)
        prediction = await self.service.create(
            body, base=call.base, api_base=call.api_base, cancel_after=cancel_after, context=context
        )
        if call.entry is not None:
            call.entry.ids.append(prediction.id)
            call.entry.warnings.extend(prediction.warnings)
            call.entry.notes.extend(prediction.notes)
        headers = {"Location": self.service.urls(prediction, call.api_base)["get"]}
        if hold.seconds is None or hold.applied is None:
            return reply(await self._starting(prediction, call), 201, headers)
        seconds = hold.seconds
        headers["Preference-Applied"] = hold.applied
        started = time.monotonic()
        if await self.service.wait(prediction, seconds):
            budget = seconds + rules.RULES["prefer"]["replyMarginSeconds"] - (time.monotonic() - started)
            snapshot = self.service.snapshot(prediction, call.api_base)
            try:
                body = await self.service.encode(snapshot, self.service.form("sync"), call.base, budget)
                return reply(body, 201, headers)
            except TimeoutError:
                call.note(NOTES["syncFallback"])
        # The official client polls only when a sync reply says "starting".
        return reply(await self._starting(prediction, call), 201, headers)

    async def _starting(self, prediction: Prediction, call: Call) -> dict[str, Any]:
        return await self.service.encode(self.service.starting(prediction, call.api_base), "url", call.base)

    async def get(self, call: Call) -> Response:
        prediction = self.service.get(call.params["prediction_id"])
        return reply(await self._current(prediction, call))

    async def cancel(self, call: Call) -> Response:
        prediction = self.service.get(call.params["prediction_id"])
        self.service.cancel(prediction)
        return reply(await self._current(prediction, call))

    async def _current(self, prediction: Prediction, call: Call) -> dict[str, Any]:
        if call.entry is not None:
            call.entry.ids.append(prediction.id)
        snapshot = self.service.snapshot(prediction, call.api_base)
        form = self.service.form("get")
        if form == "data-uri" and snapshot.with_output:
            call.note(NOTES["dataUriOutputs"])
        return await self.service.encode(snapshot, form, call.base)

    async def list_predictions(self, call: Call) -> Response:
        query = call.request.query_params
        after = _instant(query, "created_after")
        before = _instant(query, "created_before")
        found = self.service.predictions(after, before, query.get("source"))
        page = paginate(found, lambda p: p.seq, query.get("cursor"), rules.RULES["pageSize"])
        results = [
            await self.service.encode(self.service.snapshot(p, call.api_base), "url", call.base) for p in page.items
        ]
        return reply(_page_body(page, results, f"{call.api_base}/v1/predictions", query))

    async def web_page(self, call: Call) -> Response:
        """`urls.web`: a minimal page in place of replicate.com/p/{id}."""
        prediction = self.service.get(call.params["prediction_id"])
        body = await self.service.encode(self.service.snapshot(prediction, call.api_base), "url", call.base)
        items = "".join(f'<li><a href="{html.escape(url)}">{html.escape(url)}</a></li>' for url in body["output"] or [])
        page = (
            f"<!doctype html><title>Prediction {prediction.id}</title><h1>Prediction {prediction.id}</h1>"
            f"<p>{html.escape(rules.MODEL_REF)} &middot; <strong>{html.escape(body['status'])}</strong></p>"
            f"<p>{html.escape(str(prediction.input.get('prompt', '')))}</p><ul>{items}</ul>"
            f"<pre>{html.escape(body.get('logs') or '')}</pre>"
        )
        return HTMLResponse(page)

    # --- models ---------------------------------------------------------------------------------

    def _model(self, call: Call) -> None:
        if not self.service.is_model(call.params["owner"], call.params["name"]):
            raise errors.not_found()

    async def model(self, call: Call) -> Response:
        self._model(call)
        return reply(self.service.model_body())

    async def versions(self, call: Call) -> Response:
        self._model(call)
        results = [self.service.version_body(version) for version in rules.VERSIONS]
        return reply({"next": None, "previous": None, "results": results})

    async def version(self, call: Call) -> Response:
        self._model(call)
        for version in rules.VERSIONS:
            if version["id"] == call.params["version_id"]:
                return reply(self.service.version_body(version))
        raise errors.not_found()

    # --- files ----------------------------------------------------------------------------------

    async def upload(self, call: Call) -> Response:
        request = call.request
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise errors.invalid_upload('Send the file as multipart/form-data with the file in a part named "content".')
        try:
            raw = await read_body(request, rules.RULES["files"]["maxBytes"] + MULTIPART_OVERHEAD)
        except BodyTooLarge:
            raise errors.file_too_large() from None
        form = await _form(request, raw)
        try:
            upload = form.get("content")
            if not isinstance(upload, UploadFile):
                raise errors.invalid_upload('The multipart body has no file part named "content".')
            data = await upload.read()
            filename = _text_field(form, "filename") or upload.filename or "file"
            content_type = _text_field(form, "type") or upload.content_type
            metadata = _metadata(_text_field(form, "metadata"))
        finally:
            await form.close()
        record = self.service.create_file(data, filename, content_type, metadata)
        if call.entry is not None:
            call.entry.ids.append(record.id)
        return reply(self.service.file_body(record, call.api_base), 201)

    def _file(self, call: Call) -> FileRecord:
        record = self.service.file(call.params["file_id"])
        if record is None:
            raise errors.file_not_found()
        if call.entry is not None:
            call.entry.ids.append(record.id)
        return record

    async def get_file(self, call: Call) -> Response:
        return reply(self.service.file_body(self._file(call), call.api_base))

    async def delete_file(self, call: Call) -> Response:
        self.service.delete_file(self._file(call).id)
        return Response(status_code=204)

    async def download(self, call: Call) -> Response:
        record = self._file(call)
        data = self.service.file_content(record)
        if data is None:
            raise errors.file_not_found()
        disposition = f"attachment; filename*=UTF-8''{quote(record.name, safe='')}"
        return Response(data, media_type=record.content_type, headers={"Content-Disposition": disposition})

    async def list_files(self, call: Call) -> Response:
        query = call.request.query_params
        page = paginate(self.service.files(), lambda r: r.seq, query.get("cursor"), rules.RULES["pageSize"])
        results = [self.service.file_body(record, call.api_base) for record in page.items]
        return reply(_page_body(page, results, f"{call.api_base}/v1/files", query))

    # --- account and webhook secret -------------------------------------------------------------

    async def secret(self, call: Call) -> Response:
        return reply({"key": self.service.secret})

    async def account(self, call: Call) -> Response:
        return reply(self.service.account_body())

    async def _json(self, request: Request) -> Any:
        try:
            return parse_json(await read_body(request, self.max_body))
        except BodyTooLarge as exc:
            raise errors.body_too_large(exc.limit) from None
        except ValueError as exc:
            raise errors.invalid_json(str(exc)) from None


def _cancel_after(header: str | None) -> float | None:
    if header is None:
        return None
    try:
        return rules.parse_cancel_after(header)
    except ValueError:
        raise errors.invalid_cancel_after(header[:100]) from None


def _instant(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.invalid_query(name, raw[:100]) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _page_body(page: Page, results: list[Any], url: str, query: Mapping[str, str]) -> dict[str, Any]:
    kept = [(key, value) for key, value in query.items() if key != "cursor"]

    def link(cursor: str | None) -> str | None:
        return None if cursor is None else f"{url}?{urlencode([*kept, ('cursor', cursor)])}"

    return {"next": link(page.next), "previous": link(page.previous), "results": results}


async def _form(request: Request, raw: bytes) -> FormData:
    """Parse a multipart body already read (and bounded) by `read_body`."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        return await Request(request.scope, replay).form(max_files=4, max_fields=16)
    except (MultiPartException, HTTPException, ValueError, KeyError) as exc:
        detail = getattr(exc, "message", None) or getattr(exc, "detail", None) or str(exc)
        raise errors.invalid_upload(f"The multipart body cannot be read: {detail}") from None


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value else None


def _metadata(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = parse_json(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise errors.invalid_upload("metadata must be a JSON object.")
    return value


def _remarks(call: Call, body: Mapping[str, Any]) -> None:
    if "webhook_completed" in body:
        call.warn(rules.RULES["journal"]["warnings"]["webhookCompleted"])
    if "stream" in body:
        call.note(NOTES["stream"])


def _entry(request: Request, route: str) -> Entry | None:
    return journal_entry(request, SURFACE, route)


def _record(entry: Entry | None, problem: ReplicateProblem) -> None:
    if entry is None:
        return
    for field in problem.invalid:
        path = "/" + field.field.replace(".", "/") if field.field else ""
        entry.violations.append({"path": path, "message": field.description, "keyword": field.type})
