"""Replicate: the predictions API for the official model bytedance/seedream-4."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings, SettingsError

from .. import Surface
from .errors import Errors, UploadErrors
from .models import SURFACE, ReplicateService, valid_secret
from .routes import routes
from .wire import upload_limit


def surface(runtime: Runtime, settings: Settings) -> Surface:
    if settings.replicate_webhook_secret is not None and not valid_secret(settings.replicate_webhook_secret):
        raise SettingsError("replicate_webhook_secret must look like whsec_<base64>")
    service = ReplicateService(
        runtime,
        prefix=settings.prefix(SURFACE),
        file_output=settings.replicate_file_output,
        webhook_secret=settings.replicate_webhook_secret,
        emit_aborted=settings.replicate_emit_aborted,
        artifact_ttl=settings.artifact_ttl,
        max_predictions=settings.job_retention,
    )
    seam = Seam(SURFACE, runtime, Errors(), settings.max_body_bytes)
    uploads = Seam(SURFACE, runtime, UploadErrors(), upload_limit())

    def endpoints(base: str) -> list[tuple[str, str]]:
        return [("API", base), ("model", f"{base}/v1/models/bytedance/seedream-4")]

    return Surface(
        SURFACE, "Replicate", routes(service, seam, uploads), endpoints, reset=service.reset, service=service
    )
