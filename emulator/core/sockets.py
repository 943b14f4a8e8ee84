"""Dropping a connection the way a network failure would: no close frame or response, just a dead
TCP connection.

ASGI has no message for that, so the outermost middleware remembers how to reach the server's
transport (uvicorn's protocol objects expose it) before Starlette wraps `send`. Where no transport
is reachable (in-process test clients) a WebSocket is closed with 1011 and an HTTP request raises
ConnectionResetError into the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import Scope, Send
from starlette.websockets import WebSocket, WebSocketState

ABORT_STATE = "seedream.abort"
# A WebSocket client that takes no frame for this long is cut off, so nothing waits on it or buffers for it.
SEND_TIMEOUT = 30.0


def remember_transport(scope: Scope, send: Send) -> None:
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort: Callable[[], None] | None = getattr(transport, "abort", None)
    if abort is not None:
        scope.setdefault("state", {})[ABORT_STATE] = abort


async def reset(request: HTTPConnection) -> None:
    """Reset the connection of an HTTP request before anything was answered."""
    abort = request.scope.get("state", {}).get(ABORT_STATE)
    if abort is None:
        raise ConnectionResetError("connection reset by a fault rule")
    abort()


async def drop(websocket: WebSocket) -> bool:
    """Cut the connection abruptly; True when the TCP connection itself was aborted."""
    abort = websocket.scope.get("state", {}).get(ABORT_STATE)
    if abort is not None:
        abort()
        return True
    if websocket.application_state is not WebSocketState.DISCONNECTED:
        await websocket.close(code=1011)
    return False


async def send_text(websocket: WebSocket, text: str, timeout: float | None = None) -> bool:
    """Send a text frame; False, with the connection cut, when the client has not taken it within `timeout`
    (default SEND_TIMEOUT): the server's send buffer is bounded, so a send waits while the client reads nothing."""
    try:
        await asyncio.wait_for(websocket.send_text(text), timeout or SEND_TIMEOUT)
    except TimeoutError:
        await drop(websocket)
        return False
    return True


def frame_text(message: Mapping[str, Any]) -> str:
    """The text of a received WebSocket frame; a binary frame is read as UTF-8, as the providers do."""
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode("utf-8", "replace")
    return str(text)
