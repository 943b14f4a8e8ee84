"""Fixtures for the Wiro surface: an in-process emulator with Wiro-shaped helpers, signed like the official SDKs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

import httpx
import pytest

from emulator.providers.wiro.models import WiroService, WiroTask
from tests.conftest import EmulatorFactory, SurfaceHelper

DEV_KEY, DEV_SECRET = "wiro-dev-key", "wiro-dev-secret"
MODEL_PATH = "/Run/bytedance/seedream-v4"
_nonces = itertools.count(1_700_000_000_000)


def sign(key: str, secret: str, nonce: str) -> str:
    return hmac.new(key.encode(), (secret + nonce).encode(), hashlib.sha256).hexdigest()


def signed_headers(key: str = DEV_KEY, secret: str = DEV_SECRET, nonce: str | None = None) -> dict[str, str]:
    """Signature headers with a fresh, strictly increasing millisecond nonce (unless one is given)."""
    nonce = nonce if nonce is not None else str(next(_nonces))
    return {"x-api-key": key, "x-nonce": nonce, "x-signature": sign(key, secret, nonce)}


@dataclass
class Wiro(SurfaceHelper):
    """The emulator serving Wiro at `prefix`, called as project `key` (signed unless `secret` is None)."""

    prefix: str = "/wiro/v1"
    key: str = DEV_KEY
    secret: str | None = DEV_SECRET

    @property
    def service(self) -> WiroService:
        service: WiroService = self.emulator.app.state.emulator.surface("wiro").service
        return service

    def headers(self) -> dict[str, str]:
        if self.secret is None:
            return {"x-api-key": self.key}
        return signed_headers(self.key, self.secret)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return await self.client.post(self.prefix + path, headers=headers, **kwargs)

    async def run(self, body: dict[str, Any] | None = None, *, path: str = MODEL_PATH, **kwargs: Any) -> httpx.Response:
        """A Run call as given: `body` as JSON, or `files=` / `data=` / `content=` as httpx sends them."""
        if body is not None:
            kwargs["json"] = body
        return await self.post(path, **kwargs)

    async def create(self, **body: Any) -> dict[str, Any]:
        """Run with a valid JSON body (prompt given by default); the Run reply."""
        response = await self.run({"prompt": "a lighthouse at dusk", **body})
        assert response.status_code == 200, response.text
        reply = response.json()
        assert reply["result"] is True, reply
        return reply

    async def detail(self, **body: Any) -> httpx.Response:
        return await self.post("/Task/Detail", json=body)

    async def task(self, taskid: str) -> dict[str, Any]:
        """The task's record as Task/Detail gives it now."""
        reply = (await self.detail(taskid=taskid)).json()
        assert reply["result"] is True, reply
        return reply["tasklist"][0]

    async def kill(self, **body: Any) -> httpx.Response:
        return await self.post("/Task/Kill", json=body)

    async def cancel(self, **body: Any) -> httpx.Response:
        return await self.post("/Task/Cancel", json=body)

    def stored(self, taskid: str) -> WiroTask:
        """The emulator's own record of a task (its frames, its specs)."""
        task = self.service.tasks.get(taskid)
        assert task is not None, f"no task {taskid}"
        return task

    async def finished(self, taskid: str) -> dict[str, Any]:
        """The record of a task once it reached a terminal status (its outputs stored, or canceled)."""
        await until(lambda: self.stored(taskid).terminal)
        return await self.task(taskid)

    async def failed(self, taskid: str) -> dict[str, Any]:
        """The record of a task once it ended, asserting it failed the way Wiro reports a failure."""
        task = await self.finished(taskid)
        assert (task["status"], task["pexit"], task["outputs"], task["totalcost"]) == (
            "task_postprocess_end",
            "1",
            [],
            "0",
        ), task
        return task


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    body = response.json()
    assert body["result"] is False and set(body) == {"result", "errors"}, body
    [error] = body["errors"]
    return response.status_code, error["code"], error["message"]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for background work done in threads (rendering); never used to pass lifecycle time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


class SocketSession:
    """A WebSocket client speaking raw ASGI to the app, in the test's own event loop."""

    def __init__(self, app: Any, path: str = "/wiro/v1") -> None:
        self.app = app
        self.path = path
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": self.path,
            "raw_path": self.path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
            "state": {},
        }
        await self.incoming.put({"type": "websocket.connect"})
        self.task = asyncio.get_running_loop().create_task(self.app(scope, self.incoming.get, self.outgoing.put))
        accepted = await asyncio.wait_for(self.outgoing.get(), 5)
        assert accepted["type"] == "websocket.accept", accepted
        return self

    async def send(self, message: Any) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        await self.incoming.put({"type": "websocket.receive", "text": text})

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        message = await asyncio.wait_for(self.outgoing.get(), timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    def pending(self) -> int:
        return self.outgoing.qsize()

    async def __aexit__(self, *exc: object) -> None:
        await self.incoming.put({"type": "websocket.disconnect", "code": 1000})
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)


WiroFactory = Callable[..., Awaitable[Wiro]]


@pytest.fixture
async def make_wiro(make_emulator: EmulatorFactory) -> WiroFactory:
    async def factory(clock: Any = None, key: str = DEV_KEY, secret: str | None = DEV_SECRET, **settings: Any) -> Wiro:
        return Wiro(await make_emulator(clock=clock, **settings), key=key, secret=secret)

    return factory


@pytest.fixture
async def wiro(make_wiro: WiroFactory) -> Wiro:
    return await make_wiro()
