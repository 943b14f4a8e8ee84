"""A real emulator on a real port, in a background thread, for clients that run in other processes."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn

from emulator import Settings, create_app
from emulator.app import server_options


class LiveEmulator:
    def __init__(self, clock: Any = None, **settings: Any) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.settings = Settings(**{"seed": 1, **settings, "port": self.port})
        self.app = create_app(self.settings, clock=clock)
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", **server_options(self.settings)
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def runtime(self) -> Any:
        return self.app.state.emulator.runtime

    def surface(self, name: str) -> Any:
        return next(surface for surface in self.app.state.emulator.surfaces if surface.name == name)

    def call(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's event loop, where the emulator's state lives."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

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
