"""The control plane under /_emulator: health, journal, reset."""

from .routes import router

__all__ = ["router"]
