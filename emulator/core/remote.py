"""Reading reference images that clients give by URL, as far as an offline emulator can.

Providers download reference URLs and fail the task when they cannot. Here:
- a URL on this machine (any loopback spelling, e.g. a test server's fixture) is downloaded and read, and
  leaves a warning, since the real provider cannot reach the caller's loopback;
- an internal address (private, link-local, metadata) or a reserved `.invalid` name is unreachable for the
  provider too: the task fails with the provider's own error;
- any other host is on the public internet, which the emulator cannot reach: the reference is taken on
  trust (no size, no format check) and the journal says so.
The emulator's own `/files/` URLs never come here: the artifact store answers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

from contracts.addresses import host_of, is_internal_host, is_loopback_host

UNREACHABLE_SUFFIXES = (".invalid", ".test", ".example")
TIMEOUT = 10.0

Status = Literal["fetched", "offline", "unreachable"]


@dataclass(frozen=True)
class Fetched:
    status: Status
    url: str
    data: bytes | None = None
    detail: str = ""
    too_large: bool = False

    @property
    def warning(self) -> str | None:
        if self.status == "offline":
            return f"reference image {self.url} was not downloaded (the emulator is offline): its size and format are unchecked"
        if self.status == "fetched":
            return f"reference image {self.url} is on this machine: read here, but the real provider cannot reach it"
        return None


class RemoteImages:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, timeout: float = TIMEOUT) -> None:
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)

    @staticmethod
    def reachable(url: str) -> Status:
        """What `fetch` would do with a URL, without doing it."""
        host = host_of(url)
        if host is None or host.endswith(UNREACHABLE_SUFFIXES) or host in ("invalid", "test", "example"):
            return "unreachable"
        if is_loopback_host(host):
            return "fetched"
        return "unreachable" if is_internal_host(host) else "offline"

    async def fetch(self, url: str, max_bytes: int) -> Fetched:
        """Download a loopback URL (at most `max_bytes` + 1 bytes kept), or say why it is not downloaded."""
        status = self.reachable(url)
        if status == "unreachable":
            return Fetched("unreachable", url, detail=f"{url} cannot be downloaded: its host is not reachable")
        if status == "offline":
            return Fetched("offline", url)
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    return Fetched("unreachable", url, detail=f"downloading {url} answered HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        return Fetched("fetched", url, bytes(body[: max_bytes + 1]), too_large=True)
        except (httpx.HTTPError, ValueError, OSError) as exc:
            return Fetched("unreachable", url, detail=f"{url} cannot be downloaded ({type(exc).__name__})")
        return Fetched("fetched", url, bytes(body))

    async def aclose(self) -> None:
        await self._client.aclose()
