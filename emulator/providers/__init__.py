"""The API surfaces. Each provider package exposes `surface(runtime, settings) -> Surface`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from emulator.core.runtime import Runtime
    from emulator.settings import Settings


@dataclass
class Surface:
    name: str
    title: str
    routes: list[BaseRoute]
    endpoints: Callable[[str], list[tuple[str, str]]]
    reset: Callable[[], None] = field(default=lambda: None)
    service: Any = None


def build(name: str, runtime: Runtime, settings: Settings) -> Surface:
    module = import_module(f"{__name__}.{name}")
    surface: Surface = module.surface(runtime, settings)
    return surface
