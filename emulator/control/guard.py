"""Who may drive the control plane: local tools, never a web page the developer happens to have open.

A page on another origin can send "simple" requests (no preflight) to 127.0.0.1, and a DNS-rebinding page can
even do so as its own origin. So, by default: a request carrying an `Origin` that is not a loopback origin is
refused; a `Host` that is not a loopback name, the configured host or one of `control_hosts` is refused (the
rebinding case); a mutating request whose body is not JSON is refused (a form or text/plain CSRF post). With
`control_token` set, every control request must also present it (`Authorization: Bearer <token>`), which is what
shared machines and containers reached by name need.

The dashboard (`/ui`) is under the same rules. Its shell (the page, its script and style) holds no data, so with a
token it is served without one: the page then sends the token on each of its own requests, as any client would.
An `Origin` of one of the configured hosts is accepted as well as a loopback one: it is the dashboard's own
origin behind `--public-url` (the `Host` check still defeats rebinding, which arrives under a host of its own).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.addresses import is_loopback_host

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The dashboard's shell: static, data-free, and what a browser must load before it can present a token.
SHELL = ("/ui", "/ui/", "/ui/static/")


class ControlGuard:
    def __init__(self, app: ASGIApp, *, token: str | None = None, hosts: Iterable[str] = ()) -> None:
        self.app = app
        self.token = token
        self.hosts = {host.lower() for host in hosts if host}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope["method"], Headers(scope=scope), shell=_is_shell(scope))
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message = refusal
        await JSONResponse({"detail": message}, status_code=status)(scope, receive, send)

    def refusal(self, method: str, headers: Headers, *, shell: bool = False) -> tuple[int, str] | None:
        if self.token is not None:
            if shell and method in ("GET", "HEAD"):
                return None
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return 401, "the control plane needs Authorization: Bearer <control token>"
            return None
        origin = headers.get("origin")
        if origin is not None and not self._trusted_origin(origin):
            return 403, f"requests from the web origin {origin} may not drive the control plane"
        host = _hostname(headers.get("host", ""))
        if host and not (is_loopback_host(host) or host in self.hosts):
            return 403, (
                f"the control plane answers loopback names only, not {host!r} (add it with --control-host, "
                "or set --control-token)"
            )
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if method in MUTATING and media and media != "application/json":
            return 415, f"control requests carry JSON (Content-Type: application/json), not {media}"
        return None

    def _trusted_origin(self, origin: str) -> bool:
        try:
            host = urlsplit(origin).hostname
        except ValueError:
            return False
        return host is not None and (is_loopback_host(host) or host in self.hosts)


def _is_shell(scope: Scope) -> bool:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path in SHELL[:2] or (path.startswith(SHELL[2]) and ".." not in path)


def _hostname(host: str) -> str:
    """`Host` without its port: `example:8000` -> `example`, `[::1]:8000` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
