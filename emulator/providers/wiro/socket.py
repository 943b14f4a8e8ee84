"""Wiro's WebSocket transport at `/v1`: a client registers task tokens (`task_info`) and receives each task's
frames, from the first one (a late client catches up) to the terminal one. One connection may follow several
tasks; frames other than `task_info` are ignored, as Wiro does."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket

from contracts.wiro import rules
from emulator.core.faults import Context
from emulator.core.http import dumps, parse_json
from emulator.core.journal import Body
from emulator.core.seam import refusal
from emulator.core.sockets import drop, frame_text, send_text

from . import errors, wire
from .errors import Errors, WiroError
from .models import WiroService, WiroTask

logger = logging.getLogger(__name__)
ROUTE = "WS /v1"
SOCKET = rules.RULES["socket"]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def route(service: WiroService, welcome: bool) -> BaseRoute:
    return WebSocketRoute("/v1", Socket(service, welcome).serve)


class Socket:
    def __init__(self, service: WiroService, welcome: bool) -> None:
        self.service = service
        self.welcome = welcome

    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        lock = asyncio.Lock()
        streams: dict[str, asyncio.Task[None]] = {}

        async def send(frame: dict[str, Any]) -> None:
            async with lock:
                if not await send_text(websocket, dumps(frame).decode()):
                    raise ConnectionError("the client stopped reading")

        try:
            if self.welcome:
                await send(dict(SOCKET["connected"]))
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                disconnect = await self._register(websocket.url.path, frame_text(message), send, streams)
                if disconnect == "close":
                    await websocket.close(1000)
                    break
                if disconnect is not None:
                    await drop(websocket)
                    break
        except Exception:  # the client went away mid-send; nothing to answer
            logger.debug("Wiro socket closed", exc_info=True)
        finally:
            for stream in streams.values():
                stream.cancel()
            await asyncio.gather(*streams.values(), return_exceptions=True)

    async def _register(self, path: str, text: str, send: Send, streams: dict[str, asyncio.Task[None]]) -> str | None:
        """Register a task_info frame; returns how to disconnect when a fault rule says so."""
        runtime = self.service.runtime
        entry = runtime.journal.open(runtime.clock.now(), "ws", "MESSAGE", path)
        entry.surface, entry.route = wire.SURFACE, ROUTE
        runtime.journal.keep_bodies(entry, Body.frame(text), None)
        try:
            message = parse_json(text)
        except ValueError:
            entry.violations.append({"path": "", "message": errors.note("frameNotJson"), "keyword": "type"})
            return None
        if not isinstance(message, dict) or message.get("type") != "task_info":
            entry.notes.append(errors.note("frameIgnored"))
            return None
        entry.route = f"{ROUTE} task_info"
        entry.violations.extend(v.as_dict() for v in rules.CONTRACT.validator("socketRegister").violations(message))
        token = message.get("tasktoken")
        if not isinstance(token, str) or not token:
            await send(wire.socket_error(SOCKET["errors"]["missingToken"]))
            return None
        task = self.service.tasks.by_token(token)
        if task is None:
            await send(wire.socket_error(SOCKET["errors"]["unknownToken"]))
            return None
        entry.ids.append(task.id)
        admission = await runtime.admit(
            Context(wire.SURFACE, entry.route, job=token, api_key=task.project.key, transport="ws")
        )
        if admission.disconnect is not None:
            return admission.disconnect
        refused = refusal(admission, Errors())
        if isinstance(refused, WiroError):
            await send(wire.socket_error(refused.message))
            return None
        if token not in streams:
            streams[token] = asyncio.get_running_loop().create_task(self._forward(task, send))
        return None

    async def _forward(self, task: WiroTask, send: Send) -> None:
        try:
            async for frame in self.service.tasks.frames(task):
                await send(frame)
        except Exception:  # the connection closed under us
            logger.debug("Wiro socket stream ended", exc_info=True)
