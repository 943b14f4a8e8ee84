"""A real emulator on a real port, in a background thread, with its traffic recorded.

The harness, the pytest plugin and the project's own tests start emulators this way: clients in
other processes (official SDKs in their own virtualenvs, clients in other languages) need a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from emulator import Settings, create_app
from emulator.app import server_options
from emulator.core.clock import Clock, ManualClock
from emulator.instance import Emulator
from emulator.tls import TlsFiles, prepare

from .recorder import Recorder

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmulatorServer:
    """`with EmulatorServer(timing="fast") as server:` — `server.base`, `server.emulator`, `server.recorder`."""

    def __init__(self, clock: Clock | None = None, *, tls_dir: Path | None = None, **settings: Any) -> None:
        self.port = int(settings.pop("port", 0)) or free_port()
        self.clock = clock
        self.tls: TlsFiles | None = prepare(tls_dir, ("localhost", "127.0.0.1")) if tls_dir is not None else None
        self.settings = Settings(**{"seed": 1, **settings, "port": self.port})
        self.app = create_app(self.settings, clock=clock)
        self.recorder = Recorder(self.app, clock=self.emulator.runtime.clock.now)
        scheme = "https" if self.tls else "http"
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        self.ws_base = f"{scheme.replace('http', 'ws')}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.recorder,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            # Clients keep connections alive; shutdown must not wait for them.
            timeout_graceful_shutdown=1,
            ssl_certfile=str(self.tls.server_cert) if self.tls else None,
            ssl_keyfile=str(self.tls.server_key) if self.tls else None,
            **server_options(self.settings),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"emulator:{self.port}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def emulator(self) -> Emulator:
        emulator: Emulator = self.app.state.emulator
        return emulator

    @property
    def runtime(self) -> Any:
        return self.emulator.runtime

    def surface(self, name: str) -> Any:
        return self.emulator.surface(name)

    def url(self, surface: str) -> str:
        """Where a surface lives: its prefix with --provider all, the root with a single provider."""
        return self.base + self.settings.prefix(surface)

    def call(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's event loop, where the emulator's state lives."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def run(self, function: Callable[[], T]) -> T:
        """Run a plain function on the server's loop (emulator state is not thread-safe)."""

        async def call() -> T:
            return function()

        result: T = self.call(call())
        return result

    def advance(self, seconds: float) -> None:
        """Move the manual clock on the server's loop, then let woken tasks run."""
        clock = self.clock
        assert isinstance(clock, ManualClock)

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

    def start(self) -> EmulatorServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the emulator did not start")
            time.sleep(0.02)
        self._loop = self.server.servers[0].get_loop()
        return self

    def stop(self) -> None:
        if self._loop is not None and self.thread.is_alive():
            with contextlib.suppress(Exception):  # the loop may already be going down; closing is best effort
                self.call(self.emulator.runtime.aclose())
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
