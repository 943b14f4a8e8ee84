"""uvicorn's HTTP protocol with a deadline for request headers.

uvicorn closes idle keep-alive connections but waits forever for a request whose headers trickle in (the
reliability audit held 150 such "slowloris" connections open for as long as it liked). A connection must now
deliver each request's headers within `HEADER_TIMEOUT` seconds of opening, or of its previous response.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .core.deadlines import Deadlines, PerLoop

HEADER_TIMEOUT = 10.0


class TimelyHttpToolsProtocol(HttpToolsProtocol):
    header_timeout = HEADER_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        # One timer for every connection of the loop (core/deadlines.py): a timer per request cost microseconds.
        _WAITING.get(self.loop).set(self, self.header_timeout)

    def _disarm(self) -> None:
        _WAITING.get(self.loop).clear(self)

    def _too_slow(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()


# Connections waiting for a request's headers, each with the time they must have come by.
_WAITING: PerLoop[Deadlines[TimelyHttpToolsProtocol]] = PerLoop(
    lambda loop: Deadlines(loop, TimelyHttpToolsProtocol._too_slow)
)
