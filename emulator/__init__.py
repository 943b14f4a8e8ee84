"""Seedream API emulator: Runware, Wiro, EvoLink and Replicate surfaces for offline development and CI."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("seedream-emulator")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from .app import create_app
    from .core.render import GenerationSpec, NotEvidence, read_metadata
    from .settings import Settings

__all__ = ["GenerationSpec", "NotEvidence", "Settings", "__version__", "create_app", "read_metadata"]

# Imported when first asked for: a render process imports `emulator.core.render` alone, not the whole server with
# its surfaces and contracts (0.6 s and 40 MB more in every child).
_HOMES = {
    "create_app": ".app",
    "GenerationSpec": ".core.render",
    "NotEvidence": ".core.render",
    "read_metadata": ".core.render",
    "Settings": ".settings",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name], __name__), name)
