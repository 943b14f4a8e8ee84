"""Ambiguous failures: the provider accepted the request, but the client never learns it.

A gateway in front of a real provider can fail after the request went through: the job exists and
runs, yet the client sees a 502/504 or a reset connection. A client that then simply re-sends its
create is billed twice. `ambiguous` fault rules reproduce that: the surface answers the request in
full, and this middleware replaces the reply (only a successful one) with a gateway's error page or
a reset connection.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import Context, FaultEngine, Rule
from .http import JOURNAL_STATE
from .journal import Entry
from .sockets import ABORT_STATE

GATEWAY_PAGE = "<html><head><title>{status}</title></head><body><h1>{status} Gateway error</h1></body></html>"


class AmbiguousReplies:
    def __init__(self, app: ASGIApp, faults: FaultEngine) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry: Entry | None = scope.get("state", {}).get(JOURNAL_STATE)
        if scope["type"] != "http" or entry is None or not self.faults.any_rule("ambiguous"):
            await self.app(scope, receive, send)
            return
        fired: list[Rule] = []

        async def intercept(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400 and not fired:
                rule = self.faults.reply(Context(entry.surface, entry.route))
                if rule is not None:
                    fired.append(rule)
                    how = "a reset connection" if rule.drop else f"a gateway's {rule.status}"
                    entry.notes.append(
                        f"the reply (HTTP {message['status']}) became {how}; the request was served (rule {rule.id})"
                    )
            if not fired:
                await send(message)

        await self.app(scope, receive, intercept)
        if fired:
            await _fail(fired[0], scope, send, entry)


async def _fail(rule: Rule, scope: Scope, send: Send, entry: Entry) -> None:
    if rule.drop:
        abort = scope.get("state", {}).get(ABORT_STATE)
        if abort is None:
            raise ConnectionResetError("connection reset by an ambiguous fault rule")
        abort()
        # Nothing reaches the client any more; answering anyway keeps the server from logging a broken app.
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    entry.status = rule.status
    body = GATEWAY_PAGE.format(status=rule.status).encode()
    headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
