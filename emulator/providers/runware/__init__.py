"""Runware: JSON task arrays over REST (and WebSocket) for bytedance:5@0 and bytedance:seedream@4.5."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.settings import Settings

from .. import Surface
from .channel import Sessions
from .models import SURFACE, RunwareService
from .routes import routes


def surface(runtime: Runtime, settings: Settings) -> Surface:
    service = RunwareService(
        runtime,
        strict_sizes=settings.runware_strict_sizes,
        webhook_envelope=settings.runware_webhook_envelope,
        mixed_replies=settings.runware_partial_replies == "mixed",
        artifact_ttl=settings.artifact_ttl,
        max_tasks=settings.job_retention,
    )

    sessions = Sessions(service)

    def endpoints(base: str) -> list[tuple[str, str]]:
        return [("REST", f"{base}/v1"), ("WebSocket", f"{base.replace('http', 'ws', 1)}/v1")]

    def reset() -> None:
        service.reset()
        sessions.reset()

    return Surface(
        SURFACE,
        "Runware",
        routes(
            service, sessions, max_body=settings.max_body_mb * 2**20, batch_results=settings.runware_ws_batch_results
        ),
        endpoints,
        reset=reset,
        service=service,
    )
