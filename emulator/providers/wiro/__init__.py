"""Wiro: HMAC-signed model runs (`bytedance/seedream-v4`), task calls, file uploads, socket events and callbacks."""

from __future__ import annotations

from contracts.wiro import rules
from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings

from .. import Surface
from . import socket
from .auth import parse_projects
from .errors import Errors
from .models import SURFACE, WiroService
from .routes import routes

# Room for the multipart framing around a file of the largest allowed size.
MULTIPART_SLACK = 2**20


def surface(runtime: Runtime, settings: Settings) -> Surface:
    """The Wiro surface; raises SettingsError for a malformed `--wiro-project`."""
    service = WiroService(
        runtime,
        projects=parse_projects(settings.wiro_projects),
        reject_reused_nonce=settings.wiro_reject_reused_nonce,
        tolerant_signature=settings.wiro_tolerant_signature,
        callback_body=settings.wiro_callback_body,
        artifact_ttl=settings.artifact_ttl,
        max_tasks=settings.job_retention,
    )
    seam = Seam(SURFACE, runtime, Errors(), settings.max_body_bytes)
    file_body = max(settings.max_body_bytes, rules.UPLOAD_MAX_BYTES + MULTIPART_SLACK)

    def endpoints(base: str) -> list[tuple[str, str]]:
        socket_base = "ws" + base.removeprefix("http") if base.startswith("http") else base
        return [("REST", f"{base}/v1"), ("WebSocket", f"{socket_base}/v1")]

    return Surface(
        SURFACE,
        "Wiro",
        [*routes(service, seam, file_body), socket.route(service, settings.wiro_socket_welcome)],
        endpoints,
        reset=service.reset,
        service=service,
    )
