"""A connection that never finishes its request headers is closed; one that does is served as before."""

from __future__ import annotations

import asyncio
import time

import pytest

from emulator.protocol import TimelyHttpToolsProtocol
from tests.sdk.live import LiveEmulator


@pytest.fixture
def quick_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TimelyHttpToolsProtocol, "header_timeout", 0.5)


async def trickle(port: int, seconds: float) -> bytes:
    """Send a request line and headers one byte at a time and never finish; what the server answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deadline = time.monotonic() + seconds
    for byte in b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000:
        if time.monotonic() > deadline or reader.at_eof():
            break
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.sleep(0.05)
    try:
        return await asyncio.wait_for(reader.read(), 1)
    finally:
        writer.close()


async def test_a_slowloris_connection_is_closed_and_others_are_served(quick_headers: None) -> None:
    with LiveEmulator(timing="instant") as live:
        started = time.monotonic()
        answered = await trickle(live.port, seconds=5)
        assert answered == b"" and time.monotonic() - started < 3, "closed soon after the header deadline"
        reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
        writer.write(b"GET /_emulator/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 200")
        writer.close()
