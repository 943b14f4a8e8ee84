"""Ark (BytePlus ModelArk, Volcengine Ark): Bearer-authenticated synchronous image generation for Seedream 4.0
and 4.5, with Server-Sent Events when streamed."""

from __future__ import annotations

from emulator.core.runtime import Runtime
from emulator.core.seam import Seam
from emulator.settings import Settings

from .. import Surface
from .errors import Errors
from .models import SURFACE, ArkService
from .routes import BASE, PATH, routes


def surface(runtime: Runtime, settings: Settings) -> Surface:
    service = ArkService(runtime)
    seam = Seam(SURFACE, runtime, Errors(service.new_request_id), settings.max_body_bytes)
    return Surface(SURFACE, "Ark", routes(service, seam), endpoints, reset=service.reset, service=service)


def endpoints(base: str) -> list[tuple[str, str]]:
    # The base URL is what the OpenAI and Ark clients take (`base_url`); they append /images/generations.
    return [("base_url", base + BASE), ("generate", base + PATH)]
