"""Runware's WebSocket transport: the task protocol of REST over one long-lived socket, at the same path.

A socket authenticates with its first `authentication` task and gets a session. Sessions outlive sockets: frames
that could not be delivered are kept for a while and handed to a socket that re-authenticates with the same
`connectionSessionUUID`. Each task goes to the same service as over REST; a sync task's images follow in their
own frames as they finish.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from contracts.runware import rules
from emulator.core.faults import Context
from emulator.core.http import dumps, origin, parse_json
from emulator.core.images import offload
from emulator.core.jobs import Job
from emulator.core.journal import Body, Entry, mask_key
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime
from emulator.core.seam import Disconnected, refusal
from emulator.core.sockets import drop, frame_text, send_text

from . import errors, wire
from .errors import RunwareError
from .models import SURFACE, Exchange, RunwareService
from .models.tasks import identity

logger = logging.getLogger(__name__)
ROUTE = "WS /v1"
WEBSOCKET = rules.RULES["websocket"]
MAX_SESSIONS = 10_000
MAX_PENDING_FRAMES = 1_000


@dataclass
class Session:
    uuid: str
    api_key: str
    channel: Channel | None = None
    detached_at: float | None = None
    pending: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_FRAMES))
    attached: asyncio.Event = field(default_factory=asyncio.Event)


class Sessions:
    """Sessions by connectionSessionUUID; a detached one lives for the documented buffer time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.buffer_seconds = float(WEBSOCKET["bufferSeconds"])
        self._sessions: Retained[str, Session] = Retained(MAX_SESSIONS, done=lambda session: session.channel is None)

    def open(self, api_key: str, resume: object, channel: Channel) -> Session:
        self._sweep()
        session = self._sessions.get(resume) if isinstance(resume, str) else None
        if session is None or session.api_key != api_key:
            session = Session(self.runtime.ids.uuid4(), api_key, channel)
            self._sessions.put(session.uuid, session)
        session.channel, session.detached_at = channel, None
        session.attached.set()
        return session

    def detach(self, session: Session, channel: Channel) -> None:
        if session.channel is channel:
            session.channel = None
            session.detached_at = self.runtime.clock.now()
            session.attached.clear()

    async def until_attached(self, session: Session) -> bool:
        """Wait while the session has no socket; False once it has been without one for the buffer time."""
        while session.channel is None:
            deadline = (session.detached_at or self.runtime.clock.now()) + self.buffer_seconds
            if self.runtime.clock.now() >= deadline:
                return False
            waiters = {
                asyncio.ensure_future(session.attached.wait()),
                asyncio.ensure_future(self.runtime.clock.sleep_until(deadline)),
            }
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        return True

    def attached(self) -> list[Channel]:
        """The sockets sessions are attached to now."""
        return [session.channel for session in self._sessions.values() if session.channel is not None]

    def reset(self) -> None:
        self._sessions.clear()

    def _sweep(self) -> None:
        deadline = self.runtime.clock.now() - self.buffer_seconds
        for session in [s for s in self._sessions.values() if s.detached_at is not None and s.detached_at <= deadline]:
            self._sessions.pop(session.uuid)


class SocketRoute(WebSocketRoute):
    """The WebSocket at `path`; `sessions` is the transport's state (sessions and the sockets they are attached to)."""

    def __init__(self, path: str, service: RunwareService, *, max_frame: int, batch_results: bool) -> None:
        self.sessions = Sessions(service.runtime)

        async def serve(websocket: WebSocket) -> None:
            channel = Channel(websocket, service, self.sessions, max_frame=max_frame, batch_results=batch_results)
            await channel.run()

        super().__init__(path, serve)


class Channel:
    """One WebSocket connection."""

    def __init__(
        self, websocket: WebSocket, service: RunwareService, sessions: Sessions, *, max_frame: int, batch_results: bool
    ) -> None:
        self.websocket = websocket
        self.service = service
        self.runtime = service.runtime
        self.sessions = sessions
        self.max_frame = max_frame
        self.batch_results = batch_results
        self.clock = service.runtime.clock
        self.idle_seconds = float(WEBSOCKET["idleSeconds"])
        self.session: Session | None = None
        self.last_activity = self.clock.now()
        self.open = False
        self._streams: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        await self.websocket.accept()
        self.open = True
        try:
            while (message := await self._receive()) is not None:
                await self._handle(message)
        except WebSocketDisconnect:
            pass
        finally:
            self.open = False
            if self.session is not None:
                self.sessions.detach(self.session, self)

    async def drop(self) -> None:
        """Cut the connection as a network failure would (fault injection, tests)."""
        self.open = False
        await drop(self.websocket)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.open = False
        if self.websocket.application_state is WebSocketState.CONNECTED:
            await self.websocket.close(code=code, reason=reason)

    async def admit(self, context: Context) -> None:
        """Fault rules and limits for one task: Runware's error, or the socket closed or cut as the rule says."""
        admission = await self.runtime.admit(context)
        if admission.disconnect is not None:
            await (self.close(1000, "closed by a fault rule") if admission.disconnect == "close" else self.drop())
            raise Disconnected
        refused = refusal(admission, errors.Errors())
        if refused is not None:
            raise refused

    async def deliver(self, frame: dict[str, Any], session: Session | None = None) -> None:
        """Send a frame to the session's current socket, or keep it for the next one when there is none."""
        text = dumps(frame).decode()
        session = session or self.session
        target = session.channel if session is not None else self
        if target is not None and await target._send(text):
            return
        if session is not None:
            session.pending.append((self.clock.now(), text))

    async def _send(self, text: str) -> bool:
        if not self.open:
            return False
        # The idle clock restarts when a frame goes out, before the client can answer it and move time on.
        self.last_activity = self.clock.now()
        try:
            sent = await send_text(self.websocket, text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            sent = False
        if not sent:
            self.open = False
        return sent

    async def _receive(self) -> str | None:
        receiving = asyncio.ensure_future(self.websocket.receive())
        try:
            while True:
                idle = asyncio.ensure_future(self.clock.sleep_until(self.last_activity + self.idle_seconds))
                done, _ = await asyncio.wait({receiving, idle}, return_when=asyncio.FIRST_COMPLETED)
                idle.cancel()
                if receiving in done:
                    break
                if self.clock.now() >= self.last_activity + self.idle_seconds:
                    await self.close(1000, "idle timeout")
                    return None
        finally:
            if not receiving.done():
                receiving.cancel()
        message = receiving.result()
        if message["type"] == "websocket.disconnect":
            return None
        self.last_activity = self.clock.now()
        return frame_text(message)

    async def _handle(self, text: str) -> None:
        if len(text) > self.max_frame:
            await self.deliver(wire.refusal(errors.named("frameTooLarge", limit=self.max_frame)))
            return
        try:
            tasks = wire.tasks(await offload(parse_json, text, size=len(text)))
        except ValueError as exc:
            await self.deliver(wire.refusal(errors.named("invalidJSON", detail=exc)))
            return
        except RunwareError as exc:
            await self.deliver(wire.refusal(exc))
            return
        if all(isinstance(task, dict) and task.get("taskType") == "ping" for task in tasks):
            for _ in tasks:
                await self.deliver({"data": [{"taskType": "ping", "pong": True}]})
            return
        entry = self._journal()
        self.runtime.journal.keep_bodies(entry, Body.frame(text), None)
        try:
            await self._authenticate(tasks, entry)
            exchange = Exchange(
                ROUTE,
                entry,
                self.admit,
                self.runtime.base_url(origin(self.websocket)),
                self.session.api_key if self.session is not None else None,
            )
            for position, task in enumerate(tasks):
                await self._task(task, position, exchange)
        except Exception as exc:  # keep the socket and answer in Runware's shape, as REST does
            logger.exception("unexpected error answering a Runware frame")
            entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
            await self.deliver(wire.refusal(errors.named("internal")))

    async def _authenticate(self, tasks: list[Any], entry: Entry) -> None:
        auth = next((t for t in tasks if isinstance(t, dict) and t.get("taskType") == "authentication"), None)
        if auth is None:
            return
        key = auth.get("apiKey")
        entry.api_key = mask_key(key if isinstance(key, str) else None)
        try:
            api_key = self.service.authenticate(key)
        except RunwareError as exc:
            entry.status = exc.status
            await self.deliver(wire.refusal(exc))
            return
        self.session = self.sessions.open(api_key, auth.get("connectionSessionUUID"), self)
        await self.deliver({"data": [{"taskType": "authentication", "connectionSessionUUID": self.session.uuid}]})
        await self._flush()

    async def _task(self, task: Any, position: int, exchange: Exchange) -> None:
        task_type, task_uuid = identity(task)
        if task_type == "authentication":
            return
        if self.session is None and task_type != "ping":
            error = errors.named("notAuthenticated").about(task_type, task_uuid)
            exchange.entry.status = error.status
            await self.deliver(wire.refusal(error))
            return
        try:
            answer = await self.service.answer(task, exchange, f"/{position}")
        except Disconnected:
            return
        if answer.errors:
            exchange.entry.status = answer.errors[0].status
        for frame in wire.frames(answer):
            await self.deliver(frame)
        if answer.job is not None:
            stream = asyncio.get_running_loop().create_task(self._stream(answer.job, self.session))
            self._streams.add(stream)
            stream.add_done_callback(self._streams.discard)

    async def _stream(self, job: Job, session: Session | None) -> None:
        """A sync task's frames follow the session, not this socket: after a reconnect they reach the new one."""
        # Results are made when a socket can take them, not buffered encoded (4K base64 frames held 2 GB for a
        # client that had gone); after the buffer time without a socket they are dropped, as documented.
        ready = None if session is None else functools.partial(self.sessions.until_attached, session)
        async for answer in self.service.stream(job, batch=self.batch_results, ready=ready):
            for frame in wire.frames(answer):
                await self.deliver(frame, session)

    async def _flush(self) -> None:
        session = self.session
        if session is None:
            return
        oldest = self.clock.now() - self.sessions.buffer_seconds
        while session.pending and session.channel is self:
            buffered_at, text = session.pending.popleft()
            if buffered_at >= oldest and not await self._send(text):
                session.pending.appendleft((buffered_at, text))
                return

    def _journal(self) -> Entry:
        entry = self.runtime.journal.open(self.clock.now(), "ws", "MESSAGE", self.websocket.url.path)
        entry.surface, entry.route, entry.status = SURFACE, ROUTE, 200
        if self.session is not None:
            entry.api_key = mask_key(self.session.api_key)
        return entry
