"""The request seam every surface shares, written once.

A surface's route parses, authenticates and calls its service once; what surrounds that is here: the journal
entry, bounded bodies, admission (fault rules and limits), provider errors turned into replies, and the
catch-all that keeps a bug looking like the provider. Each surface supplies an `ErrorTable`: how it words what
core detects, and how one of its errors becomes a reply.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from contracts import Violation

from . import images
from .faults import Context, Rule
from .http import ALL_METHODS, JOURNAL_STATE, BodyStalled, BodyTooLarge, dumps, origin, parse_json, read_body
from .jobs import Overloaded
from .journal import Entry, mask_key
from .runtime import Admission, Runtime
from .sockets import reset

logger = logging.getLogger(__name__)


class Disconnected(Exception):
    """A fault rule reset the connection: the request ends with no reply at all."""


class ErrorTable(Protocol):
    """How one surface answers: its error type, its reply for one, and its words for what core detects."""

    @property
    def kind(self) -> type[Exception]:
        """The surface's error type: raised by its services and routes, answered by `reply`."""
        ...

    def reply(self, error: Any) -> Response: ...

    def internal(self, route: str) -> Exception: ...

    def not_found(self, method: str, path: str) -> Exception: ...

    def body_too_large(self, limit: int) -> Exception: ...

    def malformed(self, detail: str) -> Exception: ...

    def injected(self, rule: Rule) -> Exception: ...

    def limited(self, refusal: Overloaded) -> Exception:
        """A rate limit or the emulator's capacity (`Limited` is the per-key kind); both carry `retry_after`."""
        ...


def refusal(admission: Admission, errors: ErrorTable) -> Exception | None:
    """The surface's error for a request a fault rule or a limit refuses (WebSocket frames use it too)."""
    if admission.error is not None:
        return errors.injected(admission.error)
    if admission.limited is not None:
        return errors.limited(admission.limited)
    return None


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json", headers=headers)


def retry_after(seconds: float) -> str:
    """A `Retry-After` value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds)))


@dataclass
class Call:
    """One HTTP request as a surface's handler sees it, with its journal entry and the seam's helpers."""

    request: Request
    entry: Entry
    seam: Seam
    max_body: int

    @property
    def base_url(self) -> str:
        """The base of URLs handed out in replies: --public-url, else how the client reached us."""
        return self.seam.runtime.base_url(origin(self.request))

    async def body(self) -> bytes:
        try:
            return await read_body(self.request, self.max_body)
        except BodyTooLarge as exc:
            raise self.seam.errors.body_too_large(exc.limit) from None
        except BodyStalled as exc:
            raise self.seam.errors.malformed(str(exc)) from None

    async def json(self) -> Any:
        """The body as strict JSON; the surface's own error when it is too large or malformed."""
        raw = await self.body()
        try:
            # A body of tens of megabytes takes a while to parse: off the event loop, other clients keep going.
            return await images.offload(parse_json, raw, size=len(raw))
        except ValueError as exc:
            raise self.seam.errors.malformed(str(exc)) from None

    def key(self, key: object) -> None:
        """Record which (masked) key the request authenticated with."""
        self.entry.api_key = mask_key(key if isinstance(key, str) else None)

    async def admit(self, context: Context) -> None:
        """Apply fault rules and limits: raise the surface's error, or reset the connection (`Disconnected`)."""
        admission = await self.seam.runtime.admit(context)
        if admission.disconnect is not None:
            await reset(self.request)
            raise Disconnected
        error = refusal(admission, self.seam.errors)
        if error is not None:
            raise error

    def violations(self, found: Iterable[Violation], prefix: str = "") -> None:
        self.entry.add_violations({**violation.as_dict(), "path": prefix + violation.path} for violation in found)


Handler = Callable[[Call], Awaitable[Response]]


class _Endpoint:
    """A seam route's ASGI app: what Starlette makes of a `request -> response` function, without the exception
    handling it wraps around it (and around the reply's `send`), which has nothing to do here: `guard` answers every
    exception itself, and the app registers no handlers."""

    __slots__ = ("handler", "max_body", "name", "seam")

    def __init__(self, seam: Seam, name: str, handler: Handler, max_body: int | None) -> None:
        self.seam, self.name, self.handler, self.max_body = seam, name, handler, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.seam.guard(Request(scope, receive, send), self.name, self.handler, self.max_body)
        await response(scope, receive, send)


class Seam:
    """One surface's mount: every route it serves goes through `guard`."""

    def __init__(self, surface: str, runtime: Runtime, errors: ErrorTable, max_body: int) -> None:
        self.surface = surface
        self.runtime = runtime
        self.errors = errors
        self.max_body = max_body

    def route(self, path: str, name: str, handler: Handler, *, max_body: int | None = None) -> Route:
        """A route answering every method, so a wrong one gets the provider's error rather than Starlette's.
        `max_body` raises the seam's body limit for a route that carries files."""

        return Route(path, _Endpoint(self, name, handler, max_body), methods=ALL_METHODS)

    def fallback(self) -> Route:
        """Any other path under the surface: the provider's own not-found."""

        async def unknown(call: Call) -> Response:
            raise self.errors.not_found(call.request.method, call.request.url.path)

        return self.route("/{path:path}", "unknown", unknown)

    async def guard(self, request: Request, name: str, handler: Handler, max_body: int | None = None) -> Response:
        call = Call(request, self.entry(request, name), self, max_body or self.max_body)
        try:
            return await handler(call)
        except Disconnected:
            return Response(status_code=500)  # never reaches the client: its connection is gone
        except ConnectionResetError:
            raise
        except self.errors.kind as exc:
            call.violations(getattr(exc, "violations", ()))
            return self.errors.reply(exc)
        except Exception as exc:  # a bug must still look like the provider to the client, and be visible
            logger.exception("unexpected error answering a %s request", self.surface)
            call.entry.notes.append(f"emulator error: {type(exc).__name__}: {exc}")
            return self.errors.reply(self.errors.internal(name))

    def entry(self, request: Request, route: str) -> Entry:
        """The journal entry of this request, now known to belong to this surface and `route`."""
        entry: Entry | None = request.scope.get("state", {}).get(JOURNAL_STATE)
        if entry is None:  # served outside the app's journal middleware (a test mounting the routes alone)
            entry = Entry(0, self.runtime.clock.now(), "http", request.method, request.url.path)
        entry.surface, entry.route = self.surface, route
        return entry
