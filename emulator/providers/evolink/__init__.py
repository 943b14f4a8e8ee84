"""EvoLink: Bearer-authenticated async image tasks with callbacks for doubao-seedream-4.0."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings

from .. import Surface
from .errors import Errors
from .models import SURFACE, EvoLinkService
from .routes import CREATE_PATH, QUERY_PATH, routes


def surface(runtime: Runtime, settings: Settings) -> Surface:
    service = EvoLinkService(runtime, result_ttl=settings.evolink_result_ttl, max_tasks=settings.job_retention)
    seam = Seam(SURFACE, runtime, Errors(settings.evolink_error_codes), settings.max_body_bytes)
    return Surface(SURFACE, "EvoLink", routes(service, seam), endpoints, reset=service.reset, service=service)


def endpoints(base: str) -> list[tuple[str, str]]:
    return [("create", base + CREATE_PATH), ("query", base + QUERY_PATH)]
