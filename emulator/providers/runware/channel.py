"""Runware's WebSocket transport: the task protocol of REST over one long-lived socket.

A socket authenticates with its first `authentication` task and gets a session. Sessions outlive
sockets: frames that could not be delivered are kept for a while and handed to a socket that
re-authenticates with the same `connectionSessionUUID`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from contracts.runware import rules
from emulator.core.http import dumps, origin, parse_json
from emulator.core.jobs import Job
from emulator.core.journal import Entry, mask_key
from emulator.core.sockets import drop

from . import errors
from .errors import RunwareError
from .models import SURFACE, RunwareService

logger = logging.getLogger(__name__)
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


class Sessions:
    """Sessions by connectionSessionUUID; a detached one lives for the documented buffer time."""

    def __init__(self, service: RunwareService) -> None:
        self.service = service
        self.buffer_seconds = float(WEBSOCKET["bufferSeconds"])
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, api_key: str, resume: object, channel: Channel) -> Session:
        self._sweep()
        session = self._sessions.get(resume) if isinstance(resume, str) else None
        if session is None or session.api_key != api_key:
            session = Session(self.service.runtime.ids.uuid4(), api_key)
            self._sessions[session.uuid] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        session.channel, session.detached_at = channel, None
        return session

    def detach(self, session: Session, channel: Channel) -> None:
        if session.channel is channel:
            session.channel = None
            session.detached_at = self.service.runtime.clock.now()

    def reset(self) -> None:
        self._sessions.clear()

    def _sweep(self) -> None:
        deadline = self.service.runtime.clock.now() - self.buffer_seconds
        for uuid in [u for u, s in self._sessions.items() if s.detached_at is not None and s.detached_at <= deadline]:
            del self._sessions[uuid]


class Channel:
    """One WebSocket connection."""

    def __init__(
        self, websocket: WebSocket, service: RunwareService, sessions: Sessions, *, max_frame: int, batch_results: bool
    ) -> None:
        self.websocket = websocket
        self.service = service
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
        self.service.channels.add(self)
        try:
            while (message := await self._receive()) is not None:
                await self._handle(message)
        except WebSocketDisconnect:
            pass
        finally:
            self.open = False
            self.service.channels.discard(self)
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
        try:
            await self.websocket.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.open = False
            return False
        self.last_activity = self.clock.now()
        return True

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
        text = message.get("text")
        if text is None:
            raw = message.get("bytes") or b""
            text = raw.decode("utf-8", errors="replace")
        return text

    async def _handle(self, text: str) -> None:
        if len(text) > self.max_frame:
            await self.deliver({"errors": [errors.frame_too_large(self.max_frame).item()]})
            return
        try:
            tasks = parse_json(text)
        except ValueError as exc:
            await self.deliver({"errors": [errors.invalid_json(str(exc)).item()]})
            return
        try:
            tasks = self.service.check_array(tasks)
        except RunwareError as exc:
            await self.deliver({"errors": [exc.item()]})
            return
        if all(isinstance(task, dict) and task.get("taskType") == "ping" for task in tasks):
            for _ in tasks:
                await self.deliver({"data": [{"taskType": "ping", "pong": True}]})
            return
        entry = self._journal()
        try:
            await self._authenticate(tasks, entry)
            for position, task in enumerate(tasks):
                await self._task(task, position, entry)
        except Exception as exc:  # keep the socket and answer in Runware's shape, as REST does
            logger.exception("unexpected error answering a Runware frame")
            entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
            await self.deliver({"errors": [errors.internal().item()]})

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
            await self.deliver({"errors": [exc.item()]})
            return
        self.session = self.sessions.open(api_key, auth.get("connectionSessionUUID"), self)
        await self.deliver({"data": [{"taskType": "authentication", "connectionSessionUUID": self.session.uuid}]})
        await self._flush()

    async def _task(self, task: Any, position: int, entry: Entry) -> None:
        task_type = task.get("taskType") if isinstance(task, dict) else None
        if task_type == "authentication":
            return
        if self.session is None and task_type != "ping":
            task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
            error = errors.not_authenticated().about(
                task_type if isinstance(task_type, str) else None, task_uuid if isinstance(task_uuid, str) else None
            )
            entry.status = error.status
            await self.deliver({"errors": [error.item()]})
            return
        api_key = self.session.api_key if self.session is not None else None
        base_url = self.service.runtime.base_url(origin(self.websocket))
        outcome = await self.service.start(task, base_url, api_key=api_key, route="WS /v1")
        outcome.record(entry, f"/{position}")
        if outcome.disconnect == "close":
            await self.close(1000, "closed by a fault rule")
            return
        if outcome.disconnect is not None:
            await self.drop()
            return
        if outcome.data:
            await self.deliver({"data": outcome.data})
        if outcome.errors:
            entry.status = outcome.errors[0].status
            await self.deliver({"errors": [error.item() for error in outcome.errors]})
        if outcome.job is not None:
            stream = asyncio.get_running_loop().create_task(self._stream(outcome.job, self.session))
            self._streams.add(stream)
            stream.add_done_callback(self._streams.discard)

    def _progressed(self, sent: int) -> Callable[[Job], bool]:
        """Whether a job has news for a stream that has sent `sent` images: finished, or (unbatched) a new image."""
        return lambda job: job.state.terminal or (not self.batch_results and job.outputs_ready > sent)

    async def _stream(self, job: Job, session: Session | None) -> None:
        """Send a sync task's images as they finish (one frame each), then its error if it failed.

        Frames follow the session, not this socket: after a reconnect they reach the new socket."""
        inference = job.data
        sent = 0
        while True:
            await self.service.runtime.jobs.wait(job, self._progressed(sent))
            # Read together: a job may finish while a large frame is being sent below.
            finished, ready = job.state.terminal, job.outputs_ready
            items = [await self.service.result_item(inference, index) for index in range(sent, ready)]
            sent = ready
            frames = [items] if self.batch_results and items else [[item] for item in items]
            for frame in frames:
                await self.deliver({"data": frame}, session)
            if finished:
                break
        failure = self.service.failure(job)
        if failure is not None:
            await self.deliver({"errors": [failure.item()]}, session)

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
        entry = self.service.runtime.journal.open(self.clock.now(), "ws", "MESSAGE", self.websocket.url.path)
        entry.surface, entry.route, entry.status = SURFACE, "WS /v1", 200
        if self.session is not None:
            entry.api_key = mask_key(self.session.api_key)
        return entry
