"""Seedream API emulator: Runware, Wiro, EvoLink and Replicate surfaces for offline development and CI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seedream-emulator")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from .app import create_app
from .core.render import GenerationSpec, NotEvidence, read_metadata
from .settings import Settings

__all__ = ["GenerationSpec", "NotEvidence", "Settings", "__version__", "create_app", "read_metadata"]
