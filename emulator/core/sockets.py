"""Dropping a connection the way a network failure would: no close frame or response, just a dead
TCP connection.

ASGI has no message for that, so the outermost middleware remembers how to reach the server's
transport (uvicorn's protocol objects expose it) before Starlette wraps `send`. Where no transport
is reachable (in-process test clients) a WebSocket is closed with 1011 and an HTTP request raises
ConnectionResetError into the client.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import HTTPConnection
from starlette.types import Scope, Send
from starlette.websockets import WebSocket, WebSocketState

ABORT_STATE = "seedream.abort"


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
