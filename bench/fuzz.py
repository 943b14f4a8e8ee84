"""Self-fuzzing: every surface driven by Schemathesis from its OpenAPI document, by raw hypothesis bodies and, for
Runware and Wiro, by broken and oversized WebSocket frames.

    python -m bench.fuzz                          # >= 10,000 requests per surface against a real server process
    python -m bench.fuzz --requests 400 --server thread --surface wiro

What counts:
- every HTTP request and WebSocket frame is one request, counted by surface and outcome: its HTTP status, or for a
  frame what came back (`ws data`, `ws error`, `ws closed <code>`, `ws silent` where the provider answers nothing);
- a server error is a 5xx, or a frame answered with the surface's internal-error item, or a socket closed 1011;
- a dropped connection is a request whose connection ended without a reply (reset, EOF, a socket closed 1006), or
  a socket the server closed for any frame but an oversized one (1009); no fuzzed request may cause one: prompt
  directives that disconnect on purpose are never sent;
- the server's RSS before and after (a server process of its own unless `--server thread`).

The goal is 0 server errors and 0 dropped connections; each is printed with a reproducer (method, path, headers,
body). `tests/bench/test_fuzz.py` runs a short version of this on every `pytest` and fails on any.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any
from urllib.parse import quote

import orjson
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisDeprecationWarning, HypothesisException
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from bench import tools
from contracts import load
from emulator.app import FRAME_SLACK

SURFACES = ("runware", "wiro", "evolink", "replicate", "ark", "fal")
SOCKETS = ("runware", "wiro")
KEY = "fuzz-key"
WIRO_KEY, WIRO_SECRET = "wiro-dev-key", "wiro-dev-secret"
TIMEOUT = 30.0
# Shares of a surface's requests: Schemathesis, raw bodies, socket frames (surfaces without a socket: no frames).
SHARES = {"schemathesis": 0.4, "raw": 0.4, "socket": 0.2}
# Reproducers kept per distinct finding; the count is always complete.
KEEP = 3


# -- the server under test ---------------------------------------------------------------------------------------


@dataclass
class Server:
    base: str
    pid: int | None
    stop: Callable[[], None]

    @property
    def ws_base(self) -> str:
        return "ws" + self.base.removeprefix("http")

    def rss_mb(self) -> float | None:
        return tools.rss_mb(self.pid if self.pid is not None else os.getpid()) or None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_process(max_body_mb: int) -> Server:
    """`seedream-emulator serve` in a process of its own, every surface under its prefix, jobs instant."""
    port = free_port()
    env = {**os.environ, "SEEDREAM_EMULATOR_MAX_BODY_MB": str(max_body_mb)}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--timing", "instant", "--seed", "1"]
        + ["--log-level", "critical"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(base + "/_emulator/health", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.1)

    def stop() -> None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()

    return Server(base, process.pid, stop)


def server_thread(max_body_mb: int) -> Server:
    """A uvicorn server in a thread of this process (quick to start; RSS is then this whole process)."""
    from conformance.server import EmulatorServer

    server = EmulatorServer(timing="instant", max_body_mb=max_body_mb).start()
    return Server(server.base, None, server.stop)


# -- outcomes ----------------------------------------------------------------------------------------------------


@dataclass
class Finding:
    surface: str
    kind: str  # "server error" or "dropped"
    where: str
    outcome: str
    reproducer: str


@dataclass
class Tally:
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {surface: Counter() for surface in SURFACES})
    sources: dict[str, Counter[str]] = field(default_factory=lambda: {surface: Counter() for surface in SURFACES})
    findings: list[Finding] = field(default_factory=list)
    distinct: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    conformance: dict[str, Counter[str]] = field(default_factory=lambda: {surface: Counter() for surface in SURFACES})

    def total(self, surface: str) -> int:
        return sum(self.counts[surface].values())

    def add(self, surface: str, source: str, outcome: str, where: str, reproducer: Callable[[], str]) -> None:
        self.counts[surface][outcome] += 1
        self.sources[surface][source] += 1
        kind = classify(outcome)
        if kind is None:
            return
        key = (surface, kind, where, outcome)
        self.distinct[key] += 1
        if self.distinct[key] <= KEEP:
            self.findings.append(Finding(surface, kind, where, outcome, reproducer()))

    def server_errors(self, surface: str) -> int:
        return sum(n for outcome, n in self.counts[surface].items() if classify(outcome) == "server error")

    def dropped(self, surface: str) -> int:
        return sum(n for outcome, n in self.counts[surface].items() if classify(outcome) == "dropped")


def _outcome(body: Any, response: requests.Response) -> str:
    """The reply's status; a 5xx that a `fail=` directive in the body asked for (a synchronous surface answering a
    failed generation as its provider does, naming the failure) is told apart from a server error."""
    status = response.status_code
    sent = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    asked = FAILURE.search(sent)
    if status >= 500 and asked is not None and asked.group(1)[:40] in response.text:
        return f"{status} asked for"
    return str(status)


FAILURE = re.compile(r"\[\[emulator:fail=([^\]]+)\]\]")


def classify(outcome: str) -> str | None:
    if outcome.isdigit():
        return "server error" if int(outcome) >= 500 else None
    if outcome in ("ws internal error", "ws closed 1011"):
        return "server error"
    if outcome in ("dropped", "timeout", "ws dropped"):
        return "dropped"
    # No frame may end a socket but one over the frame limit (1009): any other close is the server letting go.
    if outcome.startswith("ws closed") and outcome != "ws closed 1009":
        return "dropped"
    return None


# -- authentication ----------------------------------------------------------------------------------------------

_nonces = itertools.count(time.time_ns() // 1000)


def wiro_headers() -> dict[str, str]:
    nonce = str(next(_nonces))
    signature = hmac.new(WIRO_KEY.encode(), (WIRO_SECRET + nonce).encode(), hashlib.sha256).hexdigest()
    return {"x-api-key": WIRO_KEY, "x-nonce": nonce, "x-signature": signature}


def auth_headers(surface: str, draw: int) -> dict[str, str]:
    """Valid credentials, except now and then none (draw % 16 == 0) or wrong ones (== 1)."""
    if draw % 16 == 0:
        return {}
    if surface == "wiro":
        headers = wiro_headers()
        if draw % 16 == 1:
            headers["x-signature"] = "0" * 64
        return headers
    if surface == "fal":
        return {"Authorization": "Key " + ("" if draw % 16 == 1 else f"{KEY}:{KEY}")}
    scheme = "Token" if surface == "replicate" and draw % 2 else "Bearer"
    return {"Authorization": f"{scheme} {'' if draw % 16 == 1 else KEY}"}


class Session(requests.Session):
    """Keep-alive connections, dropped by the client itself before the server's idle timeout (uvicorn: 5 s) can
    close one under a request: only the server's own doing counts as a dropped connection."""

    IDLE = 2.0

    def __init__(self) -> None:
        super().__init__()
        self._last = time.monotonic()

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        if time.monotonic() - self._last > self.IDLE:
            for adapter in self.adapters.values():
                adapter.close()
        try:
            return super().request(*args, **kwargs)
        finally:
            self._last = time.monotonic()


# -- Schemathesis ------------------------------------------------------------------------------------------------


def document(server: Server, surface: str) -> dict[str, Any]:
    """The surface's OpenAPI document, as the emulator serves it (which also proves the URL works)."""
    reply = requests.get(f"{server.base}/_emulator/openapi/{surface}.json", timeout=TIMEOUT)
    reply.raise_for_status()
    body: dict[str, Any] = reply.json()
    return body


@dataclass
class Cases:
    """Schemathesis's cases of one surface, sent to the server and tallied."""

    surface: str
    base_url: str
    tally: Tally
    session: Session
    checks: list[Any]
    draws: Iterator[int] = field(default_factory=lambda: itertools.count(2))
    sent: int = 0

    def send(self, operation: Any, mode: GenerationMode, case: Any) -> None:
        self.sent += 1
        headers = auth_headers(self.surface, next(self.draws))
        where = f"{operation.label} ({mode.value})"

        def text() -> str:
            return _case_text(case, headers, self.base_url)

        try:
            # As Schemathesis builds it, but not through `case.call`, which sends a request dropped on a kept-alive
            # connection once more: a dropped connection must count.
            kwargs = case.as_transport_kwargs(base_url=self.base_url, headers=headers)
            response = self.session.request(**kwargs, timeout=TIMEOUT)
        except requests.Timeout:
            self.tally.add(self.surface, "schemathesis", "timeout", where, text)
            return
        except requests.ConnectionError:
            self.tally.add(self.surface, "schemathesis", "dropped", where, text)
            return
        self.tally.add(self.surface, "schemathesis", str(response.status_code), where, text)
        for check in self.checks:
            try:
                case.validate_response(response, checks=[check], headers=headers)
            except (Exception, FailureGroup) as exc:  # the reply disagrees with the document
                self.tally.conformance[self.surface][f"{check.__name__}: {operation.label}: {_first_line(exc)}"] += 1

    def run(self, operation: Any, mode: GenerationMode, examples: int, fixed: bool) -> None:
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=fixed,
            verbosity=Verbosity.quiet,  # an operation with nothing to negate is skipped, not reported
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def send(case: Any) -> None:
            self.send(operation, mode, case)

        with contextlib.suppress(HypothesisException):  # e.g. no negative data for an operation without inputs
            send()


def run_schemathesis(server: Server, surface: str, budget: int, tally: Tally, fixed: bool, conformance: bool) -> None:
    """Every operation, positive and negative data, the budget shared equally."""
    described = document(server, surface)
    schema = schemathesis.openapi.from_dict(described)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    plans = [
        (operation, mode) for operation in operations for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]
    session = Session()
    cases = Cases(surface, described["servers"][0]["url"], tally, session, _conformance_checks() if conformance else [])
    for position, (operation, mode) in enumerate(plans):
        cases.run(operation, mode, max(1, (budget - cases.sent) // (len(plans) - position)), fixed)
    session.close()


def _conformance_checks() -> list[Any]:
    from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

    return [status_code_conformance, content_type_conformance, response_schema_conformance]


def _case_text(case: Any, headers: dict[str, str], base_url: str) -> str:
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    body = kwargs.get("json", kwargs.get("data", kwargs.get("files")))
    return _request_text(kwargs["method"], kwargs["url"], kwargs.get("headers", {}), body, kwargs.get("params"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


def _request_text(method: str, url: str, headers: dict[str, Any], body: Any, params: Any = None) -> str:
    shown = body if not isinstance(body, bytes | str) else _clip(body)
    return (
        f"{method} {url}"
        + (f" params={params!r}" if params else "")
        + f" headers={ {k: v for k, v in headers.items() if k.lower() != 'user-agent'}!r} body={_clip(repr(shown))}"
    )


def _clip(value: Any, size: int = 600) -> str:
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)
    return text if len(text) <= size else f"{text[:size]}... ({len(text)} characters)"


# -- raw hypothesis bodies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    example: Any  # a valid body (JSON-like) to mutate, or None for bodiless routes
    prompt: tuple[str | int, ...] = ()  # where the prompt lives in `example`, for directives


def routes(surface: str) -> list[Route]:
    """The routes raw bodies go to, each with a valid body to start from."""
    if surface == "runware":
        task = {
            "taskType": "imageInference",
            "taskUUID": "00000000-0000-4000-8000-000000000000",
            "model": "bytedance:5@0",
            "positivePrompt": "a lighthouse at dusk",
            "width": 1024,
            "height": 1024,
        }
        return [Route("POST", "/v1", [task], (0, "positivePrompt")), Route("GET", "/v1", None)]
    if surface == "wiro":
        return [
            Route("POST", "/v1/Run/bytedance/seedream-v4", {"prompt": "a paper lantern"}, ("prompt",)),
            Route("POST", "/v1/Task/Detail", {"taskid": "1"}),
            Route("POST", "/v1/Task/Kill", {"taskid": "1"}),
            Route("POST", "/v1/Task/Cancel", {"tasktoken": "x"}),
            Route("POST", "/v1/File/FolderCreate", {"name": "fuzz"}),
            Route("POST", "/v1/File/Upload", {"folderid": "x"}),
        ]
    if surface == "evolink":
        return [
            Route("POST", "/v1/images/generations", {"model": "doubao-seedream-4.0", "prompt": "a fox"}, ("prompt",)),
            Route("GET", "/v1/tasks/task-unified-1700000000-abcdefgh", None),
        ]
    if surface == "ark":
        body = {"model": "seedream-4-0-250828", "prompt": "a fox", "size": "1K"}
        return [Route("POST", "/api/v3/images/generations", body, ("prompt",))]
    if surface == "fal":
        app, requests_of = "fal-ai/bytedance/seedream/v4/text-to-image", "/queue/fal-ai/bytedance/requests/1"
        return [
            Route("POST", f"/queue/{app}", {"prompt": "a fox"}, ("prompt",)),
            Route("POST", f"/run/{app}", {"prompt": "a fox"}, ("prompt",)),
            Route("GET", f"{requests_of}/status", None),
            Route("GET", requests_of, None),
            Route("PUT", f"{requests_of}/cancel", None),
        ]
    return [
        Route(
            "POST", "/v1/models/bytedance/seedream-4/predictions", {"input": {"prompt": "a fox"}}, ("input", "prompt")
        ),
        Route(
            "POST",
            "/v1/predictions",
            {"version": "bytedance/seedream-4", "input": {"prompt": "a fox"}},
            ("input", "prompt"),
        ),
        Route("GET", "/v1/predictions", None),
        Route("GET", "/v1/predictions/{prediction}", None),
        Route("POST", "/v1/predictions/{prediction}/cancel", None),
        Route("GET", "/p/{prediction}", None),
        Route("POST", "/v1/files", None),
        Route("GET", "/v1/files", None),
        Route("GET", "/v1/files/{file}", None),
        Route("GET", "/v1/files/{file}/download", None),
        Route("DELETE", "/v1/files/{file}", None),
        Route("GET", "/v1/models/bytedance/seedream-4", None),
        Route("GET", "/v1/account", None),
    ]


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, 10**30, 1e308, -1e308, 5e-324, -0.0, 1.5]),
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "\ud7ff\ue000", "💥" * 50, "a" * 5000, "../../etc/passwd", "%00", "null"]),
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# JSON texts a strict parser must refuse, or that stretch one: non-finite numbers, huge exponents and digits,
# duplicate keys, deep nesting, lone surrogates, BOMs, comments, trailing commas.
TEXTS = st.sampled_from(
    [
        "NaN",
        "[NaN]",
        '{"a": Infinity}',
        "-Infinity",
        "1e400",
        "[1e400]",
        "-1e400",
        "9" * 5000,
        "[" + "9" * 400 + "]",
        '{"a": 1, "a": 2}',
        '[{"taskType": "ping", "taskType": "ping"}]',
        "[" * 100_000,
        "[" * 1000 + "]" * 1000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '"\\ud800"',
        '["\\udfff"]',
        "\ufeff[]",
        "[1,]",
        "{,}",
        "// comment\n[]",
        "",
        " ",
        "null",
        "true",
        "0",
        '""',
        "{}",
        "[]",
        "[[]]",
        "[{}]",
        '{"input": null}',
        '{"input": []}',
    ]
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=fuzz",
        "multipart/form-data; boundary=",
        "multipart/mixed; boundary=fuzz",
        "application/octet-stream",
        "*/*",
        "garbage",
        "",
    ]
)
# Prompt directives with values nothing downstream can represent (R1), or statuses no surface documents (R5).
# Never `disconnect` or `ambiguous`: those end connections on purpose.
DIRECTIVES = st.sampled_from(
    [
        "[[emulator:error=429;retry-after=" + "9" * 400 + "s]]",
        "[[emulator:error=429;retry-after=99999999999999999999s]]",
        "[[emulator:error=418]]",
        "[[emulator:error=499]]",
        "[[emulator:error=600]]",
        "[[emulator:error=99999999999999999999]]",
        "[[emulator:error=-1]]",
        "[[emulator:latency=" + "9" * 400 + "s]]",
        "[[emulator:latency=1..99999999999m]]",
        "[[emulator:images=-1]]",
        "[[emulator:images=" + "9" * 30 + "]]",
        "[[emulator:webhook=delay:" + "9" * 30 + "s]]",
        "[[emulator:fail=" + "x" * 2000 + "]]",
        "[[emulator:stall=nowhere]]",
        "[[emulator:]]",
        "[[emulator:;;;=;]]",
    ]
)


def _boundary_body(draw: Callable[..., Any]) -> tuple[bytes, str]:
    """A multipart body, more or less broken, and its Content-Type."""
    boundary = draw(st.sampled_from(["fuzz", "x" * 70, "a b", "", "--", "é"]))
    kind = draw(st.integers(0, 6))
    part = draw(st.binary(max_size=200))
    name = draw(st.sampled_from(["file", "content", "inputImage", "prompt", "", '"', "a\r\nb", "metadata"]))
    filename = draw(st.sampled_from(["a.png", "", "../x", "\x00", "é" * 300, None]))
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    content_type = f"multipart/form-data; boundary={boundary}"
    if kind == 0:  # garbage
        return part, content_type
    if kind == 1:  # no closing boundary
        return f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + part, content_type
    if kind == 2:  # a header with no colon
        return f"--{boundary}\r\nnonsense\r\n\r\nx\r\n--{boundary}--\r\n".encode(), content_type
    if kind == 3:  # many parts
        count = draw(st.integers(100, 3000))
        one = f'--{boundary}\r\nContent-Disposition: form-data; name="inputImage"; filename="a.png"\r\n\r\nx\r\n'
        return (one * count + f"--{boundary}--\r\n").encode(), content_type
    if kind == 4:  # a metadata part that is not JSON, and a well-formed file
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="a.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        body += part + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'.encode()
        body += draw(st.binary(max_size=50)) + f"\r\n--{boundary}--\r\n".encode()
        return body, content_type
    if kind == 5:  # well formed
        body = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + part
        return body + f"\r\n--{boundary}--\r\n".encode(), content_type
    return f"--{boundary}\r\n".encode() * 1000, "multipart/form-data"


def _mutate(draw: Callable[..., Any], example: Any) -> Any:
    """A valid body with one value replaced by something odd, a key added or one removed."""
    body = json.loads(json.dumps(example))
    holder = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if isinstance(holder, dict) and isinstance(holder.get("input"), dict) and draw(st.booleans()):
        holder = holder["input"]
    if not isinstance(holder, dict):
        return body
    action = draw(st.integers(0, 2))
    keys = sorted(holder)
    if action == 0 and keys:
        holder[draw(st.sampled_from(keys))] = draw(JSON)
    elif action == 1:
        holder[draw(st.text(max_size=20) | st.sampled_from(FIELD_NAMES))] = draw(JSON)
    elif keys:
        holder.pop(draw(st.sampled_from(keys)))
    return body


# Field names of the four surfaces that a random key rarely hits.
FIELD_NAMES = [
    "width",
    "height",
    "numberResults",
    "seed",
    "outputType",
    "outputFormat",
    "deliveryMethod",
    "webhookURL",
    "uploadEndpoint",
    "referenceImages",
    "inputImages",
    "taskUUID",
    "model",
    "size",
    "n",
    "quality",
    "image_urls",
    "callback_url",
    "maxImages",
    "inputImage",
    "callbackUrl",
    "watermark",
    "aspect_ratio",
    "max_images",
    "image_input",
    "sequential_image_generation",
    "webhook",
    "webhook_events_filter",
    "enhance_prompt",
    "providerSettings",
    "includeCost",
    "outputQuality",
    "apiKey",
    "connectionSessionUUID",
]


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    params: dict[str, str]


@st.composite
def raw_requests(draw: Callable[..., Any], surface: str) -> RawRequest:
    route = draw(st.sampled_from(routes(surface)))
    method = draw(st.sampled_from([route.method] * 18 + ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]))
    path = route.path
    for name in ("prediction", "file"):
        if "{" + name + "}" in path:
            # An id the surface handed out (chosen when sent: the pool grows as the run goes) or any text.
            value = draw(st.text(min_size=1, max_size=30) | st.integers(0, 2**16).map(lambda n: f"@{n}"))
            path = path.replace("{" + name + "}", "{" + name + ":" + quote(value, safe="") + "}")
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    kind = draw(st.integers(0, 9))
    if kind <= 2 and route.example is not None:  # a valid body, one value odd
        body = json.dumps(_mutate(draw, route.example), allow_nan=True).encode()
        headers["Content-Type"] = "application/json"
    elif kind == 3 and route.example is not None and route.prompt:  # a valid body whose prompt carries a directive
        example = json.loads(json.dumps(route.example))
        holder = example
        for step in route.prompt[:-1]:
            holder = holder[step]
        holder[route.prompt[-1]] = f"a fox {draw(DIRECTIVES)}"
        body = json.dumps(example).encode()
        headers["Content-Type"] = "application/json"
    elif kind == 4:  # any JSON value
        body = json.dumps(draw(JSON), allow_nan=True).encode()
        headers["Content-Type"] = draw(CONTENT_TYPES)
    elif kind == 5:  # JSON texts a strict parser refuses or that stretch one
        body = draw(TEXTS).encode("utf-8", "surrogatepass")
        headers["Content-Type"] = "application/json"
    elif kind == 6:  # bytes, often not UTF-8
        body = draw(
            st.binary(max_size=300) | st.sampled_from([b"\xff\xfe\xfd", b'["\xff"]', b'{"prompt": "\xc3\x28"}'])
        )
        headers["Content-Type"] = draw(CONTENT_TYPES)
    elif kind == 7:  # multipart, often broken
        body, headers["Content-Type"] = _boundary_body(draw)
    elif kind == 8:  # URL-encoded
        body = draw(st.sampled_from([b"prompt=a+fox", b"a=%ZZ&&=&%", b"prompt=" + b"%ff" * 50, b"maxImages=1e400"]))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    else:  # no body
        body = b""
    if surface == "replicate":
        if draw(st.integers(0, 4)) == 0:
            headers["Prefer"] = draw(
                st.sampled_from(
                    [
                        "wait",
                        "wait=1",
                        "wait=0",
                        "wait=-1",
                        "wait=1e400",
                        "wait=" + "9" * 50,
                        "respond-async",
                        "wait=abc",
                    ]
                )
            )
        if draw(st.integers(0, 4)) == 0:
            headers["Cancel-After"] = draw(
                st.sampled_from(
                    [
                        "5s",
                        "4s",
                        "1h30m",
                        "0",
                        "-5s",
                        "1e400s",
                        "9" * 30,
                        "99999999999999999999h",
                        "9" * 20 + "h",
                        "5",
                        "abc",
                        "1.5.5s",
                    ]
                )
            )
        if draw(st.integers(0, 2)) == 0:
            for name in ("created_after", "created_before"):
                if draw(st.booleans()):
                    params[name] = draw(
                        st.sampled_from(
                            [
                                "2024-01-01T00:00:00Z",
                                "0001-01-01T00:00:00+01:00",
                                "9999-12-31T23:59:59-23:59",
                                "0001-01-01",
                                "9999-12-31T23:59:59.999999",
                                "x",
                                "",
                            ]
                        )
                        | st.text(max_size=30)
                    )
            if draw(st.booleans()):
                params["cursor"] = draw(
                    st.text(max_size=40)
                    | st.sampled_from(["cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cj0xJnA9LTE", "=", "cD0"])
                )
    return RawRequest(method, path, headers, body, params)


def run_raw(server: Server, surface: str, budget: int, tally: Tally, pool: dict[str, list[str]], fixed: bool) -> None:
    session = Session()
    prefix = f"{server.base}/{surface}"
    draws = itertools.count(2)

    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=fixed,
    )
    @given(request=raw_requests(surface))
    def send(request: RawRequest) -> None:
        request.path = _resolved(request.path, pool)
        headers = {**auth_headers(surface, next(draws)), **request.headers}
        where = f"{request.method} {request.path.split('?')[0]} (raw)"

        def text() -> str:
            return _request_text(request.method, prefix + request.path, headers, request.body, request.params)

        try:
            response = session.request(
                request.method,
                prefix + request.path,
                headers=headers,
                data=request.body,
                params=request.params,
                timeout=TIMEOUT,
            )
        except requests.Timeout:
            tally.add(surface, "raw", "timeout", where, text)
            return
        except requests.ConnectionError:
            tally.add(surface, "raw", "dropped", where, text)
            return
        tally.add(surface, "raw", _outcome(request.body, response), where, text)
        _remember(surface, response, pool)

    send()
    session.close()


def _resolved(path: str, pool: dict[str, list[str]]) -> str:
    """`{prediction:@7}` -> the 7th (modulo) prediction id handed out so far; `{file:text}` -> the text."""
    for name in ("prediction", "file"):
        start = path.find("{" + name + ":")
        if start < 0:
            continue
        end = path.index("}", start)
        value = path[start + len(name) + 2 : end]
        known = pool.get(name, [])
        if value.startswith("@") and value[1:].isdigit():
            value = known[int(value[1:]) % len(known)] if known else "unknown"
        path = path[:start] + value + path[end + 1 :]
    return path


def _remember(surface: str, response: requests.Response, pool: dict[str, list[str]]) -> None:
    """Ids the surface handed out, so later requests reach real resources."""
    if surface != "replicate" or response.status_code != 201:
        return
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        body = response.json()
        kind = "file" if "checksums" in body else "prediction"
        if len(pool.setdefault(kind, [])) < 200:
            pool[kind].append(body["id"])


# -- WebSocket frames --------------------------------------------------------------------------------------------

PROBE_TOKEN = "fuzz-probe"
PROBES = {
    "runware": json.dumps([{"taskType": "ping", "ping": True}]),
    "wiro": json.dumps({"type": "task_info", "tasktoken": PROBE_TOKEN}),
}
# A probe's answer: Runware's pong, Wiro's error for a token it does not know.
PROBE_ANSWERS = {"runware": '"pong"', "wiro": str(load("wiro").data("rules")["socket"]["errors"]["unknownToken"])}


@st.composite
def frames(draw: Callable[..., Any], surface: str, sizes: tuple[int, ...]) -> str | bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(TEXTS)
    if kind == 1:
        return draw(st.binary(max_size=200) | st.sampled_from([b"\xff\xfe", b'["\xff"]', b"\x80" * 100]))
    if kind == 2:
        return json.dumps(draw(JSON), allow_nan=True)
    if kind == 3 and draw(st.integers(0, 99)) == 0:  # rarely: a frame over the surface's limit, or uvicorn's
        return "[" + " " * draw(st.sampled_from(sizes)) + "]"
    if surface == "runware":
        example = routes("runware")[0].example
        if kind <= 6:
            task = _mutate(draw, example)
            task[0]["taskUUID"] = str(draw(st.uuids(version=4))) if draw(st.booleans()) else task[0].get("taskUUID")
            return json.dumps(task, allow_nan=True)
        if kind == 7:
            return json.dumps([{"taskType": "imageInference", "positivePrompt": f"x {draw(DIRECTIVES)}", "4K": 1}])
        return json.dumps([draw(JSON) for _ in range(draw(st.integers(0, 3)))], allow_nan=True)
    if kind <= 6:
        return json.dumps({"type": "task_info", "tasktoken": draw(JSON)}, allow_nan=True)
    return json.dumps(
        {"type": draw(st.text(max_size=12)), **draw(st.dictionaries(st.text(max_size=8), JSON, max_size=3))}
    )


def probe_like(surface: str, frame: str | bytes) -> int:
    """How many answers like the probe's a frame itself gets: pongs for an all-ping array, Wiro's unknown-token
    error for a registration of a token it never handed out. Read as the server reads frames."""
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return 0
    if surface == "runware":
        pings = isinstance(value, list) and 1 <= len(value) <= 100
        return len(value) if pings and all(isinstance(t, dict) and t.get("taskType") == "ping" for t in value) else 0
    token = value.get("tasktoken") if isinstance(value, dict) and value.get("type") == "task_info" else None
    return 1 if isinstance(token, str) and token else 0


class Socket:
    """One fuzzing WebSocket; reopened whenever the server closes it."""

    def __init__(self, url: str, surface: str) -> None:
        self.url = url
        self.surface = surface
        self.connection: ClientConnection | None = None
        self._stack = contextlib.ExitStack()

    def open(self) -> ClientConnection:
        if self.connection is None:
            self._stack = contextlib.ExitStack()
            self.connection = self._stack.enter_context(
                connect(self.url, max_size=None, open_timeout=TIMEOUT, close_timeout=2)
            )
            if self.surface == "runware":
                self.connection.send(json.dumps([{"taskType": "authentication", "apiKey": KEY}]))
                self._until(lambda seen: any("authentication" in frame for frame in seen))
        return self.connection

    def close(self) -> None:
        self.connection = None
        with contextlib.suppress(Exception):
            self._stack.close()

    def exchange(self, frame: str | bytes, limit: int) -> str:
        """Send a frame, then the probe; the outcome is what came back before the probe's answer (frames are
        answered in order). A frame over the server's frame `limit` is refused by closing the socket (1009); the
        server knows from the frame's header and does not read the rest, so while this client still sends, the
        close can also arrive as a reset (TCP resets a connection closed with unread data): both are that refusal."""
        connection = self.open()
        expected = probe_like(self.surface, frame) + 1
        marker = PROBE_ANSWERS[self.surface]
        oversized = len(frame) > limit
        try:
            connection.send(frame)
            connection.send(PROBES[self.surface])
            seen = self._until(lambda seen: sum(marker in text for text in seen) >= expected)
        except (ConnectionClosed, OSError) as exc:
            self.close()
            received = exc.rcvd if isinstance(exc, ConnectionClosed) else None
            code = received.code if received is not None else 1006
            if oversized and code in (1006, 1009):
                return "ws closed 1009"
            return "ws dropped" if code == 1006 else f"ws closed {code}"
        except TimeoutError:
            self.close()
            return "timeout"
        answers = [text for text in seen if marker not in text]
        if any(_internal(self.surface, answer) for answer in answers):
            return "ws internal error"
        if any('"errors"' in answer or '"error"' in answer for answer in answers):
            return "ws error"
        return "ws data" if answers or expected > 1 else "ws silent"

    def _until(self, done: Callable[[list[str]], bool]) -> list[str]:
        assert self.connection is not None
        seen: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while not done(seen):
            frame = self.connection.recv(timeout=max(0.0, deadline - time.monotonic()))
            seen.append(frame if isinstance(frame, str) else frame.decode("utf-8", "replace"))
        return seen


def _internal(surface: str, frame: str) -> bool:
    return surface == "runware" and "internalServerError" in frame


def run_sockets(server: Server, surface: str, budget: int, tally: Tally, max_body: int, fixed: bool) -> None:
    """Frames for the surface's socket, a few of them over its body limit (the surface's own error) or over the
    server's frame limit (closed 1009)."""
    sock = Socket(f"{server.ws_base}/{surface}/v1", surface)
    limit = max_body + FRAME_SLACK
    sizes = (max_body + 1, limit + 1)

    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=fixed,
    )
    @given(frame=frames(surface, sizes))
    def send(frame: str | bytes) -> None:
        try:
            outcome = sock.exchange(frame, limit)
        except (OSError, InvalidHandshake):
            sock.close()
            outcome = "ws dropped"
        tally.add(surface, "socket", outcome, f"WS /v1 ({surface})", lambda: f"frame {_clip(repr(frame))}")

    send()
    sock.close()


# -- the run -----------------------------------------------------------------------------------------------------


@dataclass
class Report:
    tally: Tally
    seconds: dict[str, float]
    rss_before: float | None
    rss_after: float | None
    health_ms: float
    stores: dict[str, int] = field(default_factory=dict)  # what the server's bounded stores hold at the end
    conformance: bool = False

    @property
    def server_errors(self) -> int:
        return sum(self.tally.server_errors(surface) for surface in SURFACES)

    @property
    def dropped(self) -> int:
        return sum(self.tally.dropped(surface) for surface in SURFACES)


def fuzz(
    server: Server,
    *,
    requests_per_surface: int,
    surfaces: tuple[str, ...] = SURFACES,
    fixed: bool = False,
    conformance: bool = False,
    max_body_mb: int = 64,
    progress: Callable[[str], None] = lambda line: None,
) -> Report:
    """Fuzz each surface with at least `requests_per_surface` requests (HTTP requests and socket frames); `fixed`
    draws the same requests on every run (the test suite's way), else each run explores anew."""
    tally = Tally()
    seconds: dict[str, float] = {}
    rss_before = tools.idle_rss_mb(server.pid) if server.pid is not None else server.rss_mb()
    for surface in surfaces:
        started = time.monotonic()
        pool: dict[str, list[str]] = {}
        frames_budget = int(requests_per_surface * SHARES["socket"]) if surface in SOCKETS else 0
        generated = int(requests_per_surface * SHARES["schemathesis"])
        run_schemathesis(server, surface, generated, tally, fixed, conformance)
        progress(f"{surface}: schemathesis {tally.sources[surface]['schemathesis']} requests")
        if frames_budget:
            run_sockets(server, surface, frames_budget, tally, max_body_mb * 2**20, fixed)
            progress(f"{surface}: socket {tally.sources[surface]['socket']} frames")
        while tally.total(surface) < requests_per_surface:  # raw bodies make up the rest, whatever hypothesis skipped
            run_raw(server, surface, requests_per_surface - tally.total(surface), tally, pool, fixed)
        progress(f"{surface}: raw {tally.sources[surface]['raw']} requests")
        seconds[surface] = time.monotonic() - started
    started = time.monotonic()
    health = requests.get(server.base + "/_emulator/health", timeout=TIMEOUT)
    health.raise_for_status()
    health_ms = (time.monotonic() - started) * 1000
    reply = health.json()
    stores = {"jobs": reply["jobs"], "artifacts": reply["artifacts"], **reply.get("stores", {})}
    return Report(tally, seconds, rss_before, server.rss_mb(), health_ms, stores, conformance)


def render(report: Report, surfaces: tuple[str, ...] = SURFACES) -> str:
    tally = report.tally
    lines = ["| surface | requests | by status / outcome | 5xx | dropped | seconds |", "|---|---|---|---|---|---|"]
    for surface in surfaces:
        counts = tally.counts[surface]
        shown = ", ".join(f"{outcome}: {n:,}" for outcome, n in sorted(counts.items()))
        lines.append(
            f"| {surface} | {tally.total(surface):,} | {shown} | {tally.server_errors(surface)} "
            f"| {tally.dropped(surface)} | {report.seconds.get(surface, 0):.0f} |"
        )
    total = sum(tally.total(surface) for surface in surfaces)
    lines.append("")
    lines.append(
        f"Total {total:,} requests: {report.server_errors} server errors, {report.dropped} dropped connections."
    )
    if report.rss_before is not None and report.rss_after is not None:
        lines.append(
            f"Server RSS {report.rss_before:.0f} MB -> {report.rss_after:.0f} MB "
            f"({report.rss_after - report.rss_before:+.0f} MB); health probe afterwards {report.health_ms:.0f} ms."
        )
    if report.stores:
        lines.append(
            "Bounded stores at the end: " + ", ".join(_store(name, n) for name, n in report.stores.items()) + "."
        )
    sources = {source: sum(tally.sources[s][source] for s in surfaces) for source in ("schemathesis", "raw", "socket")}
    lines.append("By source: " + ", ".join(f"{source} {n:,}" for source, n in sources.items() if n) + ".")
    for finding in tally.findings:
        count = tally.distinct[(finding.surface, finding.kind, finding.where, finding.outcome)]
        lines.append(
            f"- {finding.kind} ({finding.outcome}, {count}x) {finding.surface} {finding.where}: {finding.reproducer}"
        )
    if report.conformance:
        disagreeing = sum(sum(tally.conformance[surface].values()) for surface in surfaces)
        lines.append(
            f"Schemathesis replies disagreeing with the documents (status, content type, schema): {disagreeing}."
        )
    for surface in surfaces:
        for failure, n in sorted(tally.conformance[surface].items()):
            lines.append(f"- conformance {surface} ({n}x): {failure}")
    return "\n".join(lines)


def _store(name: str, value: int) -> str:
    label = name.replace("_", " ").removesuffix(" bytes")
    return f"{label} {value / 2**20:,.0f} MB" if name.endswith("_bytes") else f"{label} {value:,}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000, help="requests and frames per surface (default 10,000)")
    parser.add_argument("--surface", action="append", choices=SURFACES, help="fuzz only this surface (repeatable)")
    parser.add_argument(
        "--server",
        default="process",
        help="process (a server process of its own, default), thread (in this process), or the base URL of a running one",
    )
    parser.add_argument("--max-body-mb", type=int, default=64, help="the server's body limit (default 64, the default)")
    parser.add_argument("--fixed", action="store_true", help="draw the same requests on every run (as the tests do)")
    parser.add_argument(
        "--conformance", action="store_true", help="also count replies that disagree with the documents"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=HypothesisDeprecationWarning)  # raised inside hypothesis-jsonschema
    # The socket client logs the end of a connection the server closed over an oversized frame; it is counted.
    logging.getLogger("websockets").setLevel(logging.CRITICAL)
    if args.server == "process":
        server = server_process(args.max_body_mb)
    elif args.server == "thread":
        server = server_thread(args.max_body_mb)
    else:
        server = Server(args.server.rstrip("/"), None, lambda: None)
    surfaces = tuple(args.surface or SURFACES)
    print(
        f"Fuzzing {', '.join(surfaces)}: {args.requests:,} requests each against {server.base} "
        f"(schemathesis {version('schemathesis')}{', fixed draws' if args.fixed else ''})",
        flush=True,
    )
    started = time.monotonic()
    try:
        report = fuzz(
            server,
            requests_per_surface=args.requests,
            surfaces=surfaces,
            fixed=args.fixed,
            conformance=args.conformance,
            max_body_mb=args.max_body_mb,
            progress=lambda line: print("  " + line, flush=True),
        )
    finally:
        server.stop()
    print(render(report, surfaces))
    print(f"Run time {time.monotonic() - started:.0f} s.")
    return 1 if report.server_errors or report.dropped else 0


if __name__ == "__main__":
    raise SystemExit(main())
