from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from emulator.core.runtime import Runtime


@dataclass
class Receiver:
    """Stands in for a client's webhook endpoint: records requests, answers with scripted statuses."""

    statuses: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, text="ok")


@dataclass
class Fixtures:
    """Stands in for a client's own test server on loopback, which the emulator downloads reference URLs from."""

    base: str = "http://127.0.0.1:8999"
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def url(self, name: str, data: bytes) -> str:
        self.files["/" + name] = data
        return f"{self.base}/{name}"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        data = self.files.get(request.url.path)
        return httpx.Response(200, content=data) if data is not None else httpx.Response(404, text="no such fixture")


@dataclass
class Emulator:
    app: Any
    client: httpx.AsyncClient
    receiver: Receiver
    fixtures: Fixtures = field(default_factory=Fixtures)

    @property
    def runtime(self) -> Runtime:
        return self.app.state.emulator.runtime


@dataclass
class SurfaceHelper:
    """One surface of an in-process emulator, reached at `prefix`: what a provider folder's test helper (in its
    conftest) builds on with the surface's own calls."""

    emulator: Emulator
    prefix: str = ""

    def path(self, path: str) -> str:
        return self.prefix + path

    @property
    def app(self) -> Any:
        return self.emulator.app

    @property
    def client(self) -> httpx.AsyncClient:
        return self.emulator.client

    @property
    def runtime(self) -> Runtime:
        return self.emulator.runtime

    @property
    def receiver(self) -> Receiver:
        return self.emulator.receiver

    @property
    def fixtures(self) -> Fixtures:
        return self.emulator.fixtures


EmulatorFactory = Callable[..., Any]


@pytest.fixture
async def make_emulator() -> AsyncIterator[EmulatorFactory]:
    opened: list[Emulator] = []

    async def factory(clock: Any = None, **overrides: Any) -> Emulator:
        settings = Settings(**{"timing": "instant", "seed": 1, "control_hosts": ("testserver",), **overrides})
        receiver, fixtures = Receiver(), Fixtures()
        app = create_app(
            settings,
            clock=clock,
            webhook_transport=httpx.MockTransport(receiver),
            fetch_transport=httpx.MockTransport(fixtures),
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        emulator = Emulator(app, client, receiver, fixtures)
        opened.append(emulator)
        return emulator

    yield factory
    for emulator in opened:
        await emulator.client.aclose()
        await emulator.runtime.aclose()


@pytest.fixture
async def emulator(make_emulator: EmulatorFactory) -> Emulator:
    return await make_emulator()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
