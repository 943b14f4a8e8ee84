"""`create_app(settings)`: a fresh, isolated emulator as an ASGI application."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import providers
from .control import router as control_router
from .core.clock import Clock
from .core.http import JOURNAL_STATE
from .core.runtime import Runtime
from .settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    webhook_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or Settings()
    runtime = Runtime.create(
        seed=settings.seed if settings.seed is not None else secrets.randbits(32),
        timing=settings.timing,
        clock=clock,
        public_url=settings.public_url,
        max_jobs=settings.job_retention,
        journal_size=settings.journal_size,
        cache_bytes=settings.render_cache_mb * 2**20,
        upload_bytes=settings.upload_storage_mb * 2**20,
        webhook_transport=webhook_transport,
    )
    surfaces = [providers.build(name, runtime, settings) for name in settings.providers]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await runtime.aclose()

    app = FastAPI(
        title="Seedream emulator",
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    app.state.surfaces = surfaces
    app.include_router(control_router)
    app.router.routes.append(Route("/files/{name}", _file_endpoint(runtime), methods=["GET", "HEAD"]))
    for surface in surfaces:
        app.router.routes.append(Mount(settings.prefix(surface.name), routes=surface.routes))
    app.add_middleware(JournalMiddleware, runtime=runtime)
    return app


def _file_endpoint(runtime: Runtime):  # type: ignore[no-untyped-def]
    async def serve_file(request: Request) -> Response:
        _journal(request, "files", "GET /files/{artifact}")
        artifact_id, _, extension = request.path_params["name"].rpartition(".")
        artifact = runtime.artifacts.get(artifact_id)
        if artifact is None or extension.lower() not in (artifact.extension, "jpeg" if artifact.extension == "jpg" else ""):
            return JSONResponse({"error": "not_found", "message": "No such file, or it has expired."}, status_code=404)
        if artifact.remote_url is not None:
            return RedirectResponse(artifact.remote_url, status_code=307)
        data = await runtime.artifacts.content(artifact)
        remaining = max(0, int(artifact.expires_at - runtime.clock.now()))
        headers = {"Cache-Control": f"private, max-age={remaining}"}
        if artifact.spec is not None:
            headers["ETag"] = f'"{artifact.spec.content_key()[:32]}"'
        return Response(data if request.method == "GET" else b"", media_type=artifact.media_type, headers=headers)

    return serve_file


def _journal(request: Request, surface: str, route: str) -> None:
    entry = request.scope.get("state", {}).get(JOURNAL_STATE)
    if entry is not None:
        entry.surface = surface
        entry.route = route


class JournalMiddleware:
    """Opens a journal entry for every HTTP request; surfaces fill in what they learn."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        entry = self.runtime.journal.open(self.runtime.clock.now(), "http", scope["method"], scope["path"])
        scope.setdefault("state", {})[JOURNAL_STATE] = entry
        started = time.perf_counter()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
