"""fal's wire: which queue operation a path names, the query flags, and the proxy protocol's target header."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from contracts.fal import rules

from . import errors

Operation = Literal["submit", "status", "result", "cancel"]
TRUE = ("1", "true", "yes")
OPERATIONS: dict[tuple[str, ...], Operation] = {(): "result", ("status",): "status", ("cancel",): "cancel"}
# fal's replies name their request in this header; @fal-ai/client reads `requestId` from it (`response.js`,
# `REQUEST_ID_HEADER`), and fal-client takes it as the sign of a reply from fal itself (`_is_ingress_error`).
REQUEST_ID_HEADER = "x-fal-request-id"


def request_id_header(request_id: str) -> dict[str, str]:
    return {REQUEST_ID_HEADER: request_id}


@dataclass(frozen=True)
class Target:
    """One queue path: submit names the app; status, result and cancel name a request under the app's owner/alias
    (fal's clients send owner/alias only; the full app id is accepted as well)."""

    operation: Operation
    app: str  # the full app id for submit, owner/alias for the others
    request_id: str = ""


def queue_target(rest: str, method: str, path: str) -> Target:
    parts = [unquote(part) for part in rest.strip("/").split("/") if part]
    if "requests" in parts[2:-1]:
        at = parts.index("requests", 2)
        owner_alias = "/".join(parts[:2])
        tail = parts[at + 2 :]
        operation = OPERATIONS.get(tuple(tail))
        if operation is None:
            raise errors.request_error("notFound", method=method, path=path)
        return Target(operation, owner_alias, parts[at + 1])
    return Target("submit", "/".join(parts))


def with_logs(query: Mapping[str, str]) -> bool:
    return query.get("logs", "").strip().lower() in TRUE


@dataclass(frozen=True)
class Proxied:
    """A request sent through the @fal-ai/client proxy protocol: the real fal URL it is meant for."""

    kind: Literal["queue", "run"]
    rest: str
    query: dict[str, str]


def proxied(header: str | None) -> Proxied:
    """Read `x-fal-target-url`: a URL on fal's hosts, as the official proxies insist."""
    if not header:
        raise errors.request_error("badProxyTarget", detail="missing")
    try:
        url = urlsplit(header.strip())
        host = (url.hostname or "").lower()
    except ValueError:
        raise errors.request_error("badProxyTarget", detail="not a URL") from None
    allowed = tuple(rules.RULES["proxy"]["allowedHostSuffixes"])
    if url.scheme not in ("http", "https") or not any(host == s or host.endswith("." + s) for s in allowed):
        raise errors.request_error("badProxyTarget", detail=f"{host or 'no host'} is not a fal host")
    kind: Literal["queue", "run"] = "queue" if host.startswith("queue.") else "run"
    return Proxied(kind, url.path, dict(parse_qsl(url.query)))
