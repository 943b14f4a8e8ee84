"""fal: the queue (`queue.fal.run`) and direct (`fal.run`) APIs of the Seedream 4.0 and 4.5 apps."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings

from .. import Surface
from .errors import Errors
from .models import SURFACE, FalService
from .routes import PROXY_PATH, routes


def surface(runtime: Runtime, settings: Settings) -> Surface:
    service = FalService(runtime, max_requests=settings.job_retention)
    seam = Seam(SURFACE, runtime, Errors(), settings.max_body_bytes)
    prefix = settings.prefix(SURFACE)
    return Surface(SURFACE, "fal", routes(service, seam, prefix), endpoints, reset=service.reset, service=service)


def endpoints(base: str) -> list[tuple[str, str]]:
    """The hosts fal-client reads (FAL_QUEUE_RUN_HOST, FAL_RUN_HOST) are these without their scheme."""
    return [("queue", base + "/queue"), ("run", base + "/run"), ("proxy", base + PROXY_PATH)]
