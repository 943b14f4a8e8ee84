"""A WebSocket client that stops reading is cut off instead of being waited on or buffered for without end."""

from __future__ import annotations

import asyncio
from typing import Any

from emulator.core import sockets


class Stuck:
    """A WebSocket whose client reads nothing: every send waits on a full buffer.

    Only the part of a Starlette WebSocket that `sockets.send_text` uses, hence the arg-type ignores below."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {"state": {sockets.ABORT_STATE: self.abort}}
        self.aborted = False

    async def send_text(self, text: str) -> None:
        await asyncio.Event().wait()

    def abort(self) -> None:
        self.aborted = True


class Reading(Stuck):
    async def send_text(self, text: str) -> None:
        return None


async def test_a_send_the_client_never_takes_gives_up_and_cuts_the_connection() -> None:
    stuck = Stuck()
    assert await sockets.send_text(stuck, "frame", timeout=0.05) is False  # type: ignore[arg-type]
    assert stuck.aborted


async def test_a_client_that_reads_gets_its_frame() -> None:
    reading = Reading()
    assert await sockets.send_text(reading, "frame", timeout=0.05) is True  # type: ignore[arg-type]
    assert not reading.aborted


def test_binary_frames_read_as_text() -> None:
    assert sockets.frame_text({"bytes": "héllo".encode()}) == "héllo"
    assert sockets.frame_text({"text": "plain"}) == "plain"
    assert sockets.frame_text({}) == ""
