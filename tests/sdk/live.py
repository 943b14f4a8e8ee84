"""Real emulators on real ports, and a real webhook receiver, for clients that run elsewhere.

`LiveEmulator` runs uvicorn in a background thread, optionally over HTTPS with a locally generated
CA (what `seedream-emulator serve --tls` does) and on a `ManualClock` that tests advance on the
server's own event loop, so lifecycles never cost real time. `WebhookSink` records POSTs on loopback.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn

from emulator import Settings, create_app
from emulator.app import server_options
from emulator.core.clock import ManualClock
from emulator.tls import TlsFiles, prepare


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveEmulator:
    def __init__(self, clock: ManualClock | None = None, *, tls_dir: Path | None = None, **settings: Any) -> None:
        self.port = free_port()
        self.clock = clock
        self.tls: TlsFiles | None = prepare(tls_dir, ("localhost", "127.0.0.1")) if tls_dir is not None else None
        self.settings = Settings(**{"seed": 1, **settings, "port": self.port})
        self.app = create_app(self.settings, clock=clock)
        scheme = "https" if self.tls else "http"
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        self.ws_base = f"{scheme.replace('http', 'ws')}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            # Clients keep connections alive; shutdown must not wait for them.
            timeout_graceful_shutdown=1,
            ssl_certfile=str(self.tls.server_cert) if self.tls else None,
            ssl_keyfile=str(self.tls.server_key) if self.tls else None,
            **server_options(self.settings),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def runtime(self) -> Any:
        return self.app.state.emulator.runtime

    def surface(self, name: str) -> Any:
        return self.app.state.emulator.surface(name)

    def call(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's event loop, where the emulator's state lives."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def advance(self, seconds: float) -> None:
        """Move the manual clock on the server's loop, then let woken tasks run."""
        clock = self.clock
        assert clock is not None

        async def step() -> None:
            clock.advance(seconds)
            for _ in range(20):
                await asyncio.sleep(0)

        self.call(step())

    def drive_until(self, done: Callable[[], bool], step: float = 0.25, limit: float = 600) -> None:
        """Advance the manual clock while a client (in another thread or process) waits, until `done()`."""
        elapsed = 0.0
        while not done():
            if elapsed > limit:
                raise AssertionError("the client did not finish")
            self.advance(step)
            elapsed += step
            time.sleep(0.01)

    def __enter__(self) -> LiveEmulator:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.02)
        self._loop = self.server.servers[0].get_loop()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookSink:
    """A plain HTTP server on loopback that records every POST it receives and answers `status`."""

    status: int = 200
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                sink.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(sink.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} webhooks, got {len(self.received)}")
            time.sleep(0.02)
        return self.received
