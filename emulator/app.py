"""`create_app(settings)`: a fresh, isolated emulator as an ASGI application."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import providers
from .control import control_app
from .core.ambiguous import AmbiguousReplies
from .core.clock import Clock
from .core.faults import FaultError
from .core.http import JOURNAL_STATE, PiecesResponse
from .core.journal import Body
from .core.renderers import RENDERERS
from .core.runtime import Runtime
from .core.sockets import remember_transport
from .core.state import Durable
from .instance import Emulator
from .protocol import TimelyHttpToolsProtocol
from .recording import replay_middleware
from .settings import Settings, SettingsError

logger = logging.getLogger(__name__)
ONE_YEAR = 31_536_000
FALLBACK = "/{path:path}"
UNKNOWN_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
FRAME_SLACK = 2**20
ACCESS_LOG_LEVELS = ("trace", "debug", "info")


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
    fetch_transport: httpx.AsyncBaseTransport | None = None,
) -> EmulatorApplication:
    settings = settings or Settings()
    runtime = Runtime.create(
        seed=settings.seed if settings.seed is not None else secrets.randbits(32),
        timing=settings.timing,
        clock=clock,
        public_url=settings.public_url,
        max_jobs=settings.job_retention,
        max_active_jobs=settings.max_active_jobs,
        journal_size=settings.journal_size,
        cache_bytes=settings.render_cache_mb * 2**20,
        upload_bytes=settings.upload_storage_mb * 2**20,
        realistic_sizes=settings.realistic_image_sizes,
        webhook_transport=webhook_transport,
        strict=settings.strict,
        callback_exempt=settings.callback_exempt,
        image_count=settings.image_count,
        fetch_transport=fetch_transport,
        api_keys=settings.api_keys,
        state=Path(settings.state) if settings.state else None,
    )
    emulator = Emulator(settings, runtime, [providers.build(name, runtime, settings) for name in settings.providers])
    runtime.restore({f"surface.{surface.name}": surface.service for surface in emulator.surfaces})
    _apply_scenario(emulator, settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        runtime.resume()
        RENDERERS.start()  # so the first download does not wait for the render processes to start
        yield
        await runtime.aclose()

    routes: list[BaseRoute] = [
        Mount(settings.prefix(surface.name) or "/", routes=surface.routes) for surface in emulator.surfaces
    ]
    routes[:0] = [
        Mount("/_emulator", app=control_app(emulator, token=settings.control_token, hosts=_control_hosts(settings))),
        Route("/files/{name}", _file_endpoint(runtime), methods=["GET", "HEAD"]),
    ]
    if settings.provider == "all":
        routes.append(Route(FALLBACK, _unknown, methods=UNKNOWN_METHODS))
    app = EmulatorApplication(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            *([Middleware(Durable, state=runtime.state)] if runtime.state is not None else []),
            Middleware(JournalMiddleware, runtime=runtime),
            *replay_middleware(emulator),
            Middleware(AmbiguousReplies, faults=runtime.faults),
        ],
    )
    app.state.emulator = emulator
    app.router.default = _unmatched(emulator, settings, app.router.not_found)
    return app


def _unmatched(emulator: Emulator, settings: Settings, otherwise: ASGIApp) -> ASGIApp:
    """What answers a request no route matches: the not-found of the surface whose prefix it is under.

    Routes match on the decoded path with patterns that stop at a line break, so a path such as
    `/evolink/v1/tasks/a%0Ab` slips past a surface's mount and its catch-all; it must still get the provider's
    not-found, not Starlette's plain-text one (found by bench/fuzz.py).
    """
    fallbacks = [
        (settings.prefix(surface.name), route)
        for surface in emulator.surfaces
        for route in surface.routes
        if isinstance(route, Route) and route.path == FALLBACK
    ]
    unknown = Route(FALLBACK, _unknown, methods=UNKNOWN_METHODS) if settings.provider == "all" else None

    async def default(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http":
            for prefix, route in fallbacks:
                if not prefix or path == prefix or path.startswith(prefix + "/"):
                    await route.handle(scope, receive, send)
                    return
            if unknown is not None:
                await unknown.handle(scope, receive, send)
                return
        await otherwise(scope, receive, send)

    return default


def _control_hosts(settings: Settings) -> list[str]:
    """Host names the control plane answers besides loopback: the bound host, the public URL's, and any named."""
    hosts = [*settings.control_hosts, settings.host]
    if settings.public_url:
        hosts.append(urlsplit(settings.public_url).hostname or "")
    return hosts


def _apply_scenario(emulator: Emulator, settings: Settings) -> None:
    surfaces = {surface.name for surface in emulator.surfaces}
    for surface, limit in settings.limits.items():
        if surface not in surfaces:
            raise SettingsError(f"limits for unknown surface {surface!r}; surfaces: {', '.join(sorted(surfaces))}")
        try:
            emulator.set_limit(surface, **limit)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"limits.{surface}: {exc}") from None
    for position, rule in enumerate(settings.faults):
        try:
            emulator.add_fault(rule)
        except FaultError as exc:
            raise SettingsError(f"faults[{position}]: {exc}") from None


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options every server of this app needs, whoever starts it (CLI, tests, embedders)."""
    # No provider documents a frame limit. Frames up to the body limit reach the surfaces; the surfaces answer
    # a frame just over it in their own error shape, and uvicorn closes anything larger (code 1009) before
    # buffering it (the audit measured a 256 MiB allowance).
    return {
        "ws_max_size": settings.max_body_bytes + FRAME_SLACK,
        "ws_per_message_deflate": False,
        "http": TimelyHttpToolsProtocol,
        # uvicorn formats every access line's arguments before the logger drops it; above `info` none is shown.
        "access_log": settings.log_level in ACCESS_LOG_LEVELS,
    }


async def _unknown(request: Request) -> Response:
    return JSONResponse(
        {"error": "not_found", "message": f"No surface at {request.url.path}. See /_emulator/health for the URLs."},
        status_code=404,
    )


def _file_endpoint(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def serve_file(request: Request) -> Response:
        entry = request.scope.get("state", {}).get(JOURNAL_STATE)
        if entry is not None:
            entry.surface, entry.route = "files", "GET /files/{artifact}"
        artifact_id, _, extension = request.path_params["name"].rpartition(".")
        await runtime.artifacts.prepare(artifact_id)  # a reference fixture renders in a render process, not here
        artifact = runtime.artifacts.get(artifact_id)
        if artifact is None or extension.lower() not in (
            artifact.extension,
            "jpeg" if artifact.extension == "jpg" else "",
        ):
            return JSONResponse({"error": "not_found", "message": "No such file, or it has expired."}, status_code=404)
        if artifact.remote_url is not None:
            return RedirectResponse(artifact.remote_url, status_code=307)
        try:
            parts = await runtime.artifacts.pieces(artifact)
        except Exception as exc:  # a render bug must not become Starlette's plain-text 500
            logger.exception("rendering %s failed", artifact.id)
            if entry is not None:
                entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
            return JSONResponse(
                {"error": "render_failed", "message": "The emulator could not render this file."}, status_code=500
            )
        remaining = min(ONE_YEAR, max(0, int(artifact.expires_at - runtime.clock.now())))
        headers = {"Cache-Control": f"private, max-age={remaining}"}
        if artifact.spec is not None:
            headers["ETag"] = f'"{artifact.spec.content_key()[:32]}"'
        return PiecesResponse(parts, media_type=artifact.media_type, headers=headers)

    return serve_file


class EmulatorApplication(Starlette):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Before any middleware wraps `send`: the server's own `send` is the way to its transport,
        # which fault rules need to reset connections abruptly.
        if scope["type"] in ("http", "websocket"):
            remember_transport(scope, send)
        await super().__call__(scope, receive, send)


class JournalMiddleware:
    """Opens a journal entry for every HTTP request; surfaces fill in what they learn."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        journal = self.runtime.journal
        entry = journal.open(self.runtime.clock.now(), "http", scope["method"], scope["path"])
        scope.setdefault("state", {})[JOURNAL_STATE] = entry
        started = time.perf_counter()
        # What was sent and answered, kept (bounded) for people reading the journal.
        request = Body.of(scope["headers"])
        reply: Body | None = None

        async def read() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.feed(message.get("body", b""))
                if request.hash_due:
                    await request.hash_pending()
            return message

        async def capture(message: Message) -> None:
            nonlocal reply
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                reply = Body.of(message.get("headers", ()))
            elif message["type"] == "http.response.body" and reply is not None:
                reply.feed(message.get("body", b""))
                if reply.hash_due:
                    await reply.hash_pending()
            await send(message)

        try:
            await self.app(scope, read, capture)
        finally:
            entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            journal.keep_bodies(entry, request, reply)
