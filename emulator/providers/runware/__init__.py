"""Runware: JSON task arrays over REST and WebSocket for bytedance:5@0 and bytedance:seedream@4.5."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings

from .. import Surface
from .errors import Errors
from .models import SURFACE, RunwareService
from .routes import PATH, routes
from .socket import SocketRoute


def surface(runtime: Runtime, settings: Settings) -> Surface:
    service = RunwareService(
        runtime,
        strict_sizes=settings.runware_strict_sizes,
        webhook_envelope=settings.runware_webhook_envelope,
        mixed_replies=settings.runware_partial_replies == "mixed",
        artifact_ttl=settings.artifact_ttl,
        max_tasks=settings.job_retention,
    )
    seam = Seam(SURFACE, runtime, Errors(), settings.max_body_bytes)
    socket = SocketRoute(
        PATH, service, max_frame=settings.max_body_bytes, batch_results=settings.runware_ws_batch_results
    )

    def reset() -> None:
        service.reset()
        socket.sessions.reset()

    return Surface(SURFACE, "Runware", routes(service, seam, socket), endpoints, reset=reset, service=service)


def endpoints(base: str) -> list[tuple[str, str]]:
    return [("REST", base + PATH), ("WebSocket", base.replace("http", "ws", 1) + PATH)]
