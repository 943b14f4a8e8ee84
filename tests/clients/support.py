"""Helpers for the client tests: a handle on the shared emulator, and transports that record traffic."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

import httpx

from clients._retry import RetryPolicy
from contracts.counts import ask
from tests.sdk.live import LiveEmulator

WIRO_KEY, WIRO_SECRET = "wiro-dev-key", "wiro-dev-secret"
WIRO_KEY_ONLY = "wiro-key-only"
FAL_KEY = "fal-dev-id:fal-dev-secret"  # fal's keys are `id:secret`
FAL_APP = "fal-ai/bytedance/seedream/v4/text-to-image"


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    request: bytes
    status: int
    body: bytes
    sent: float
    answered: float
    headers: httpx.Headers

    def json(self) -> Any:
        return json.loads(self.body)


def _record(request: httpx.Request, response: httpx.Response, sent: float, into: list[Exchange]) -> httpx.Response:
    answered = time.monotonic()
    into.append(
        Exchange(
            request.method,
            request.url.path,
            request.content,
            response.status_code,
            response.content,
            sent,
            answered,
            request.headers,
        )
    )
    return httpx.Response(response.status_code, headers=response.headers, content=response.content, request=request)


class Recording(httpx.BaseTransport):
    """Passes requests to a real HTTP transport and keeps every exchange, as the client saw it."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.exchanges: list[Exchange] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        sent = time.monotonic()
        response = self.inner.handle_request(request)
        response.read()
        return _record(request, response, sent, self.exchanges)

    def close(self) -> None:
        self.inner.close()

    def to(self, path_end: str) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.path.endswith(path_end)]


class AsyncRecording(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        sent = time.monotonic()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return _record(request, response, sent, self.exchanges)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def to(self, path_end: str) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.path.endswith(path_end)]


class Live:
    """The shared emulator, with the control calls the tests need run on its own loop."""

    def __init__(self, server: LiveEmulator) -> None:
        self.server = server

    def url(self, surface: str) -> str:
        return self.server.url(surface)

    def fault(self, **rule: Any) -> Any:
        return self.server.run(lambda: self.server.emulator.add_fault(rule))

    def limit(self, surface: str, **limits: int | None) -> None:
        self.server.run(lambda: self.server.emulator.set_limit(surface, **limits))

    def journal(self, surface: str, route: str | None = None) -> list[Any]:
        return self.server.run(lambda: self.server.runtime.journal.entries(surface=surface, route=route))

    def invalid(self, surface: str) -> list[Any]:
        """Requests of the surface that broke its contract (the journal's violations)."""
        return [entry for entry in self.journal(surface) if not entry.valid]

    def job(self, job_id: str) -> dict[str, Any] | None:
        return self.server.run(lambda: self.server.emulator.job(job_id))

    def jobs(self, surface: str) -> list[dict[str, Any]]:
        return self.server.run(lambda: self.server.emulator.jobs(surface=surface))

    def advance(self, job_id: str) -> None:
        self.server.run(lambda: self.server.emulator.advance(job_id))

    def reset(self) -> None:
        def reset() -> None:
            self.server.emulator.reset()
            for surface in ("runware", "wiro", "evolink", "replicate", "fal"):
                self.server.emulator.set_limit(surface)

        self.server.run(reset)


class Timing(TypedDict):
    """The polling and timeout options every client constructor takes."""

    poll_interval: float
    max_poll_interval: float
    timeout: float


class SyncOptions(TypedDict, total=False):
    """The keyword options of a sync client constructor that a test may override."""

    timeout: float
    max_retries: int
    poll_interval: float
    max_poll_interval: float
    transport: httpx.BaseTransport | None
    http: httpx.Client | None


# Small intervals keep every lifecycle well under a second of real time.
FAST: Timing = {"poll_interval": 0.02, "max_poll_interval": 0.05, "timeout": 10.0}


def fast(**overrides: Unpack[SyncOptions]) -> SyncOptions:
    """FAST, with a test's own options on top, for a sync client constructor."""
    options: SyncOptions = {**FAST, **overrides}
    return options


def quick(client: Any) -> Any:
    """Shrink a client's backoff (0.5 s doubling) to milliseconds; Retry-After is still honoured exactly."""
    client._policy = RetryPolicy(max_retries=client._policy.max_retries, initial_delay=0.005, max_delay=0.01)
    return client


@dataclass(frozen=True)
class Surface:
    """One provider as the cross-provider tests drive it."""

    name: str
    sync: type[Any]
    async_: type[Any]
    create_route: str
    poll_route: str

    def options(self, root: str, **overrides: Any) -> dict[str, Any]:
        """Constructor options for a surface served at `root` (e.g. http://127.0.0.1:8000/runware)."""
        options: dict[str, Any] = {**FAST, "base_url": root + "/v1" if self.name in ("runware", "wiro") else root}
        if self.name == "wiro":
            options["secret"] = WIRO_SECRET
        return {**options, **overrides}

    @property
    def key(self) -> str:
        if self.name == "fal":
            return FAL_KEY
        return WIRO_KEY if self.name == "wiro" else "test-key"

    def client(self, live: Live, **overrides: Any) -> Any:
        return quick(self.sync(self.key, **self.options(live.url(self.name), **overrides)))

    def async_client(self, live: Live, **overrides: Any) -> Any:
        return quick(self.async_(self.key, **self.options(live.url(self.name), **overrides)))

    def request(self, prompt: str = "a lighthouse at dusk", images: int = 1) -> dict[str, Any]:
        """A valid provider-native body asking for `images` images of 2048x2048 (where the count is an upper bound,
        the prompt asks for them, as the providers tell their users to)."""
        if self.name != "runware":
            prompt = ask(prompt, images)
        if self.name == "runware":
            return {
                "model": "bytedance:5@0",
                "positivePrompt": prompt,
                "width": 2048,
                "height": 2048,
                "numberResults": images,
            }
        if self.name == "wiro":
            return {"prompt": prompt, "size": "2048x2048", "maxImages": images}
        if self.name == "evolink":
            return {"model": "doubao-seedream-4.0", "prompt": prompt, "n": images, "size": "1:1", "quality": "2K"}
        if self.name == "fal":
            # No image_size: fal's documented default is 2048x2048.
            return {"app": FAL_APP, "input": {"prompt": prompt, "max_images": images}}
        return {
            "input": {
                "prompt": prompt,
                "size": "2K",
                "aspect_ratio": "1:1",
                "sequential_image_generation": "auto",
                "max_images": images,
            }
        }

    def polls(self, exchanges: list[Exchange]) -> list[Exchange]:
        """The poll requests among a client's exchanges."""
        if self.name == "runware":
            return [e for e in exchanges if b'"getResponse"' in e.request]
        if self.name == "wiro":
            return [e for e in exchanges if e.path.endswith("/Task/Detail")]
        if self.name == "fal":
            return [e for e in exchanges if e.method == "GET" and e.path.endswith("/status")]
        marker = "/v1/tasks/" if self.name == "evolink" else "/v1/predictions/"
        return [e for e in exchanges if e.method == "GET" and marker in e.path]

    def terminal(self, exchange: Exchange) -> bool:
        """Whether this poll reply showed the job finished."""
        body = exchange.json()
        if self.name == "runware":
            items = body.get("data", [])
            return bool(body.get("errors")) or (bool(items) and all(item.get("status") == "success" for item in items))
        if self.name == "wiro":
            return body["tasklist"][0]["status"] in ("task_postprocess_end", "task_cancel")
        if self.name == "evolink":
            return body["status"] in ("completed", "failed", "cancelled")
        if self.name == "fal":
            return body["status"] == "COMPLETED"
        return body["status"] in ("succeeded", "failed", "canceled")


def surfaces() -> list[Surface]:
    from clients.evolink import AsyncEvoLinkClient, EvoLinkClient
    from clients.fal import AsyncFalClient, FalClient
    from clients.replicate import AsyncReplicateClient, ReplicateClient
    from clients.runware import AsyncRunwareClient, RunwareClient
    from clients.wiro import AsyncWiroClient, WiroClient

    return [
        Surface("runware", RunwareClient, AsyncRunwareClient, "POST /v1", "POST /v1"),
        Surface("wiro", WiroClient, AsyncWiroClient, "POST /v1/Run/{owner}/{model}", "POST /v1/Task/Detail"),
        Surface("evolink", EvoLinkClient, AsyncEvoLinkClient, "POST /v1/images/generations", "GET /v1/tasks/{task_id}"),
        Surface(
            "replicate",
            ReplicateClient,
            AsyncReplicateClient,
            "POST /v1/models/{owner}/{name}/predictions",
            "GET /v1/predictions/{id}",
        ),
        Surface(
            "fal",
            FalClient,
            AsyncFalClient,
            "POST /queue/{app_id}",
            "GET /queue/{owner}/{alias}/requests/{request_id}/status",
        ),
    ]


SURFACES = surfaces()


def image_size(image: Any) -> tuple[int, int]:
    from emulator import read_metadata

    record = read_metadata(image.content())
    width, height = record["width"], record["height"]
    assert isinstance(width, int) and isinstance(height, int)
    return width, height
