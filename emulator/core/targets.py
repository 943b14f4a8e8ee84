"""Where the emulator may call back: the production rule for callback and webhook URLs, and who is exempt.

Every provider that documents callbacks refuses plain HTTP and internal addresses (EvoLink says so; Replicate
requires HTTPS). Offline, a developer's receiver is usually `http://127.0.0.1:…`, so by default such a URL is
served and leaves a journal warning; with `strict` it is refused as production refuses it. URLs under an
exempt prefix (the conformance harness's own receiver) are served silently in both modes.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from contracts.addresses import address_of, host_of, is_internal_address, is_internal_host

# How long a strict check waits for a name to resolve; offline, public names do not resolve at all.
RESOLVE_TIMEOUT = 2.0


@dataclass(frozen=True)
class TargetProblem:
    kind: str  # "scheme" | "internal" | "malformed"
    url: str
    detail: str

    @property
    def warning(self) -> str:
        return f"{self.detail}: production refuses it; served here because --strict is off"


@dataclass
class TargetPolicy:
    strict: bool = False
    exempt: list[str] = field(default_factory=list)

    def exempted(self, url: str) -> bool:
        return any(url.startswith(prefix) for prefix in self.exempt)

    def problems(self, url: str) -> list[TargetProblem]:
        """What production would object to in a callback target (exempt URLs have nothing wrong)."""
        if self.exempted(url):
            return []
        host = host_of(url)
        try:
            scheme = urlsplit(url.strip()).scheme.lower()
        except ValueError:
            scheme = ""
        if host is None:
            return [TargetProblem("malformed", url, f"callback URL {url!r} has no host")]
        found = []
        if scheme != "https":
            found.append(TargetProblem("scheme", url, f"callback URL {url} is not HTTPS"))
        if is_internal_host(host):
            found.append(TargetProblem("internal", url, f"callback URL {url} targets the internal host {host}"))
        return found

    def refused(self, url: str) -> list[TargetProblem]:
        """The problems that refuse the request: all of them under --strict, none otherwise."""
        return self.problems(url) if self.strict else []

    def warnings(self, url: str) -> list[str]:
        """Journal warnings for what is served only because --strict is off."""
        return [] if self.strict else [problem.warning for problem in self.problems(url)]

    async def resolved_problem(self, url: str) -> str | None:
        """Under --strict, why a target whose name resolves to an internal address must not be called (an
        /etc/hosts alias of 127.0.0.1, a DNS name pointing at a private range); None when it may be called.
        A name that does not resolve is left to fail as a delivery, as it would in production."""
        if not self.strict or self.exempted(url):
            return None
        host = host_of(url)
        if host is None or address_of(host) is not None or is_internal_host(host):
            return None  # literals and internal names were judged when the request was made
        try:
            loop = asyncio.get_running_loop()
            found = await asyncio.wait_for(loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
        except (OSError, TimeoutError, UnicodeError):
            return None
        for *_, sockaddr in found:
            address = address_of(str(sockaddr[0]))
            if address is not None and is_internal_address(address):
                return f"{host} resolves to the internal address {address}: production refuses to call it"
        return None
