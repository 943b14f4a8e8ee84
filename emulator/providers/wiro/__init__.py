"""Wiro: HMAC-signed model runs (`bytedance/seedream-v4`), task calls, file uploads, socket events and callbacks."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.settings import Settings, SettingsError

from .. import Surface
from .auth import parse_projects
from .models import SURFACE, WiroService
from .routes import routes

CALLBACK_BODIES = ("detail", "task")


def surface(runtime: Runtime, settings: Settings) -> Surface:
    """The Wiro surface; raises SettingsError for a malformed `--wiro-project` or `wiro_callback_body`."""
    if settings.wiro_callback_body not in CALLBACK_BODIES:
        raise SettingsError(f"wiro_callback_body must be detail or task; got {settings.wiro_callback_body!r}")
    service = WiroService(
        runtime,
        projects=parse_projects(settings.wiro_projects),
        reject_reused_nonce=settings.wiro_reject_reused_nonce,
        tolerant_signature=settings.wiro_tolerant_signature,
        callback_body=settings.wiro_callback_body,
        artifact_ttl=settings.artifact_ttl,
        max_tasks=settings.job_retention,
    )

    def endpoints(base: str) -> list[tuple[str, str]]:
        socket = "ws" + base.removeprefix("http") if base.startswith("http") else base
        return [("REST", f"{base}/v1"), ("WebSocket", f"{socket}/v1")]

    return Surface(
        SURFACE,
        "Wiro",
        routes(service, settings.max_body_mb * 2**20, settings.wiro_socket_welcome),
        endpoints,
        reset=service.reset,
        service=service,
    )
