"""Fixtures for the Runware surface: the sessions of the WebSocket transport of a live emulator."""

from __future__ import annotations

from emulator.providers import Surface
from emulator.providers.runware.socket import Sessions, SocketRoute


def sessions(surface: Surface) -> Sessions:
    """The WebSocket sessions of a Runware surface, and through them the sockets attached to each."""
    [route] = [route for route in surface.routes if isinstance(route, SocketRoute)]
    return route.sessions
