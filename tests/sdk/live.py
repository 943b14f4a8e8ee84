"""Real emulators on real ports, and a real webhook receiver, for clients that run elsewhere.

`LiveEmulator` runs uvicorn in a background thread, optionally over HTTPS with a locally generated
CA (what `seedream-emulator serve --tls` does) and on a `ManualClock` that tests advance on the
server's own event loop, so lifecycles never cost real time. `WebhookSink` records POSTs on loopback.
"""

from __future__ import annotations

from typing import Self

from conformance.server import EmulatorServer, free_port
from conformance.webhooks import Received, WebhookSink

__all__ = ["EmulatorServer", "LiveEmulator", "Received", "WebhookSink", "free_port"]


class LiveEmulator(EmulatorServer):
    """The harness's server under the name the tests know.

    `EmulatorServer.__enter__` is annotated to return the base class, so `with LiveEmulator() as server`
    would type `server` as an `EmulatorServer`; this keeps the subclass (and `ReplicateLive`'s `routes`).
    """

    def __enter__(self) -> Self:
        self.start()
        return self
