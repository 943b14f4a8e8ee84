"""Replicate: the predictions API for the official model bytedance/seedream-4."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.settings import Settings, SettingsError

from .. import Surface
from .models import SURFACE, ReplicateService, valid_secret
from .routes import Api

FILE_OUTPUT_MODES = ("auto", "data-uri", "url")


def surface(runtime: Runtime, settings: Settings) -> Surface:
    if settings.replicate_file_output not in FILE_OUTPUT_MODES:
        raise SettingsError(f"replicate_file_output must be one of {', '.join(FILE_OUTPUT_MODES)}")
    if settings.replicate_webhook_secret is not None and not valid_secret(settings.replicate_webhook_secret):
        raise SettingsError("replicate_webhook_secret must look like whsec_<base64>")
    prefix = settings.prefix(SURFACE)
    service = ReplicateService(
        runtime,
        prefix=prefix,
        file_output=settings.replicate_file_output,
        webhook_secret=settings.replicate_webhook_secret,
        emit_aborted=settings.replicate_emit_aborted,
        artifact_ttl=settings.artifact_ttl,
        max_predictions=settings.job_retention,
    )

    def endpoints(base: str) -> list[tuple[str, str]]:
        return [("API", base), ("model", f"{base}/v1/models/bytedance/seedream-4")]

    return Surface(
        SURFACE, "Replicate", Api(service, settings.max_body_mb * 2**20).routes(), endpoints, reset=service.reset
    )
