"""EvoLink: Bearer-authenticated async image tasks with callbacks for doubao-seedream-4.0."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings, SettingsError

from .. import Surface
from .errors import STYLES, Errors
from .models import SURFACE, EvoLinkService
from .routes import routes


def surface(runtime: Runtime, settings: Settings) -> Surface:
    if settings.evolink_error_codes not in STYLES:
        raise SettingsError(f"evolink_error_codes must be integer or string; got {settings.evolink_error_codes!r}")
    if settings.evolink_result_ttl is not None and not settings.evolink_result_ttl > 0:
        raise SettingsError(
            f"evolink_result_ttl must be a positive number of seconds; got {settings.evolink_result_ttl!r}"
        )
    service = EvoLinkService(
        runtime,
        code_style=settings.evolink_error_codes,
        result_ttl=settings.evolink_result_ttl,
        max_tasks=settings.job_retention,
    )

    def endpoints(base: str) -> list[tuple[str, str]]:
        return [("create", f"{base}/v1/images/generations"), ("query", f"{base}/v1/tasks/{{task_id}}")]

    return Surface(
        SURFACE,
        "EvoLink",
        routes(service, Seam(SURFACE, runtime, Errors(settings.evolink_error_codes), settings.max_body_bytes)),
        endpoints,
        reset=service.reset,
        service=service,
    )
