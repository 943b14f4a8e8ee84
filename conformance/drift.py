"""`seedream-conformance drift CASSETTE`: send every recorded request to the emulator and compare the replies.

The emulator runs in-process on a manual clock that moves only as far as the cassette needs: a poll that finds
the emulator in an earlier lifecycle state than the provider showed is sent again as the clock moves on in small
steps, until the emulator reaches that state (or passes it), so each reply is compared with one in the same
state; a request that waits for its job (a sync inference, a WebSocket result) moves the clock until it is
answered. How fast a job runs is a setting of the emulator, not drift. Ids the provider handed out are mapped to
the ones the emulator hands out (each surface's `identityFields`) before the next request uses them.

Each reply is compared with the recorded one: status, the headers that matter (`headers`), the JSON shape
(fields missing, extra, type changes), enumeration values (`enumFields`) and, over the whole cassette, the
lifecycle states seen (`stateFields`): a state the provider showed that the emulator never reached is drift.
Everything surface-specific comes from `contracts/<surface>/recording.json`.
"""

from __future__ import annotations

import concurrent.futures
import json
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from contracts.cassette import RecordingRules, UnknownSurface, rules
from emulator.core.clock import ManualClock
from emulator.recording.cassette import (
    REDACTED,
    Cassette,
    body_bytes,
    encode_body,
    encode_frame,
    media_type,
    pairs,
    substitute,
)

from .events import (
    CaseFinished,
    CaseResult,
    CheckFinished,
    CheckInfo,
    CheckStarted,
    Event,
    RunFinished,
    RunStarted,
)
from .server import EmulatorServer
from .webhooks import Received, WebhookSink

# How long to wait (real time) for a reply or a frame before moving the emulator's clock on, and how far at most.
# The first wait is long: a reply slow only because the machine is busy must not move the clock (the job would
# then be ahead of the provider's at the next poll); later ones are short, as by then the reply waits for its job.
FIRST_WAIT = 1.0
FRAME_WAIT = 0.2
FRAME_CLOCK_LIMIT = 120.0
HTTP_TIMEOUT = 30.0
# Clock steps (emulated seconds) by how long has been waited already: (waited below, step).
FINE_STEPS = ((1.0, 0.01), (10.0, 0.1), (float("inf"), 1.0))
COARSE_STEPS = ((10.0, 0.25), (float("inf"), 2.0))
# Real seconds to wait for the emulator's callbacks after the last exchange.
CALLBACK_WAIT = 15.0
# How far the clock moves after the last exchange before the polls are sent once more (emulated seconds).
SETTLE = 600.0


@dataclass(frozen=True)
class Finding:
    """One difference: `kind` is status, header, missing, extra, type, enum, body, frames or state."""

    kind: str
    where: str
    real: Any = None
    emulated: Any = None

    def text(self) -> str:
        if self.kind == "missing":
            return f"{self.where}: the provider sends it, the emulator does not"
        if self.kind == "extra":
            return f"{self.where}: the emulator sends it, the provider does not"
        return f"{self.where}: provider {self.real!r}, emulator {self.emulated!r}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "real": self.real, "emulated": self.emulated}


@dataclass
class Outcome:
    seq: int
    surface: str
    label: str
    real_status: Any
    emulated_status: Any
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    real: Any = None
    emulated: Any = None
    duration: float = 0.0

    @property
    def drifted(self) -> bool:
        return bool(self.findings)


@dataclass
class DriftReport:
    cassette: str
    outcomes: list[Outcome]
    states: dict[str, tuple[set[str], set[str]]]
    duration: float
    # Surfaces in the cassette this installation has no recording rules for: their exchanges were not sent.
    skipped: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return any(outcome.drifted for outcome in self.outcomes)


def kind(value: Any) -> str:
    if isinstance(value, dict):
        return "string" if "$image" in value else "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def compare(real: Any, emulated: Any, rule: RecordingRules, where: str = "") -> list[Finding]:
    """Shape differences between a recorded JSON document and the emulator's; array items compared pairwise,
    their indexes written as * so one difference repeated over many items is reported once."""
    found: dict[tuple[str, str], Finding] = {}

    def walk(one: Any, other: Any, path: str) -> None:
        if kind(one) != kind(other):
            found.setdefault(("type", path), Finding("type", path or "/", kind(one), kind(other)))
            return
        if isinstance(one, dict) and isinstance(other, dict):
            for key, value in one.items():
                child = f"{path}/{key}"
                if key not in other:
                    found.setdefault(("missing", child), Finding("missing", child))
                    continue
                if key in rule.enum_fields and isinstance(value, str | int) and value != other[key]:
                    found.setdefault(("enum", child), Finding("enum", child, value, other[key]))
                walk(value, other[key], child)
            for key in other.keys() - one.keys():
                child = f"{path}/{key}"
                found.setdefault(("extra", child), Finding("extra", child))
        elif isinstance(one, list) and isinstance(other, list):
            for left, right in zip(one, other, strict=False):
                walk(left, right, f"{path}/*")

    walk(real, emulated, where)
    return list(found.values())


def states(document: Any, names: frozenset[str]) -> Iterator[str]:
    if isinstance(document, dict):
        for key, value in document.items():
            if key in names and isinstance(value, str):
                yield value
            else:
                yield from states(value, names)
    elif isinstance(document, list):
        for item in document:
            yield from states(item, names)


def compare_headers(real: dict[str, str], emulated: dict[str, str], rule: RecordingRules) -> list[Finding]:
    findings = []
    for name in rule.headers:
        if name in real and name not in emulated:
            findings.append(Finding("missing", f"header {name}"))
        elif name in emulated and name not in real:
            findings.append(Finding("extra", f"header {name}"))
        elif name == "content-type" and name in real and media_type(real[name]) != media_type(emulated[name]):
            findings.append(
                Finding("header", "header content-type", media_type(real[name]), media_type(emulated[name]))
            )
    return findings


def compare_bodies(real: Any, emulated: Any, rule: RecordingRules, where: str) -> list[Finding]:
    real_kind = next(iter(real)) if isinstance(real, dict) else "empty"
    emulated_kind = next(iter(emulated)) if isinstance(emulated, dict) else "empty"
    if real_kind != emulated_kind:
        return [Finding("body", where or "body", real_kind, emulated_kind)]
    if real_kind == "json":
        return compare(real["json"], emulated["json"], rule, where)
    if real_kind == "image":
        one, other = real["image"], emulated["image"]
        return (
            [Finding("body", f"{where} image", one["format"], other["format"])]
            if one["format"] != other["format"]
            else []
        )
    return []


class Drift:
    """One drift run: an emulator on a manual clock, the cassette sent to it in order."""

    def __init__(self, cassette: Cassette, source: str, *, timing: str = "realistic", seed: int = 0) -> None:
        self.cassette = cassette
        self.source = source
        self.rules: dict[str, RecordingRules] = {}
        for exchange in cassette.exchanges:
            try:
                self.rules.setdefault(exchange["surface"], rules(exchange["surface"]))
            except UnknownSurface:
                continue
        settings: dict[str, Any] = {"timing": timing, "seed": seed}
        for rule in self.rules.values():
            settings.update(rule.drift_settings)
        self.clock = ManualClock()
        self.server = EmulatorServer(self.clock, **settings)
        self.mapping: dict[str, str] = {}
        self.seen: dict[str, tuple[set[str], set[str]]] = {}
        # Requests sent, by what was sent, and how often: a request sent again and again is a poll.
        self.polls: dict[tuple[str, str, str, bytes], tuple[dict[str, str], int]] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="drift")
        self.sink = WebhookSink()
        # How often each request appears in the cassette (more than once: a poll), and the order in which the
        # recording first saw each surface's lifecycle states.
        self.repeated: dict[str, int] = {}
        self.order: dict[str, list[str]] = {}
        for exchange in cassette.exchanges:
            self._index(exchange)

    def _index(self, exchange: dict[str, Any]) -> None:
        rule = self.rules.get(exchange["surface"])
        if rule is None:
            return
        if exchange["kind"] == "http":
            key = _request_key(exchange)
            self.repeated[key] = self.repeated.get(key, 0) + 1
            bodies = [exchange["response"]["body"]]
        elif exchange["kind"] == "websocket":
            bodies = [frame["body"] for frame in exchange["frames"]]
        else:
            bodies = [exchange["request"]["body"]]
        order = self.order.setdefault(rule.surface, [])
        for body in bodies:
            order += [state for state in states(_json(body), rule.state_fields) if state not in order]

    def run(self) -> DriftReport:
        began = time.perf_counter()
        outcomes = []
        with self.server, httpx.Client(timeout=HTTP_TIMEOUT) as client, self.pool, self.sink:
            for exchange in self.cassette.exchanges:
                rule = self.rules.get(exchange["surface"])
                if rule is None or exchange["kind"] == "callback":
                    continue
                started = time.perf_counter()
                if exchange["kind"] == "http":
                    outcome = self._http(client, exchange, rule)
                else:
                    outcome = self._socket(exchange, rule)
                outcome.duration = time.perf_counter() - started
                outcomes.append(outcome)
            self._settle(client)
            outcomes += self._callbacks()
        outcomes += self._lifecycle()
        skipped = sorted({exchange["surface"] for exchange in self.cassette.exchanges} - set(self.rules))
        return DriftReport(self.source, outcomes, self.seen, time.perf_counter() - began, skipped)

    def _hooked(self, document: Any, rule: RecordingRules, seq: int) -> Any:
        """The document with each callback URL pointed at this run's receiver, at a path naming the exchange."""
        if isinstance(document, list):
            return [self._hooked(item, rule, seq) for item in document]
        if not isinstance(document, dict):
            return document
        return {
            key: f"{self.sink.url}/{seq}/{key}"
            if key in rule.callback_fields and isinstance(value, str) and value.startswith(("http://", "https://"))
            else self._hooked(value, rule, seq)
            for key, value in document.items()
        }

    def _hooked_query(self, query: str, rule: RecordingRules, seq: int) -> str:
        if not any(name in query for name in rule.callback_fields):
            return query
        return urlencode(
            [
                (name, f"{self.sink.url}/{seq}/{name}" if name in rule.callback_fields else value)
                for name, value in parse_qsl(query, keep_blank_values=True)
            ]
        )

    def _callbacks(self) -> list[Outcome]:
        """Each recorded callback against what the emulator delivered for the same request and field, in order."""
        recorded = [e for e in self.cassette.exchanges if e["kind"] == "callback" and e["surface"] in self.rules]
        self.sink.wait_for(len(recorded), timeout=CALLBACK_WAIT if recorded else 0)  # returns once all arrived
        delivered: dict[str, list[Received]] = {}
        for received in self.sink.received:
            delivered.setdefault(received.path, []).append(received)
        outcomes = []
        for exchange in recorded:
            rule = self.rules[exchange["surface"]]
            path = f"{urlsplit(self.sink.url).path}/{exchange['for']}/{exchange.get('field', '')}"
            outcome = Outcome(
                exchange["seq"], rule.surface, f"callback {exchange.get('field')} of #{exchange['for']}", "sent", None
            )
            queue_ = delivered.get(path, [])
            if not queue_:
                outcome.findings.append(Finding("missing", "callback", "delivered", "nothing"))
                outcomes.append(outcome)
                continue
            got = queue_.pop(0)
            outcome.emulated_status = "sent"
            emulated = encode_body(got.body, got.headers.get("content-type"), rule, None)
            outcome.real, outcome.emulated = exchange["request"]["body"], emulated
            outcome.findings += compare_headers(exchange["request"]["headers"], got.headers, rule)
            for name in sorted(rule.callback_credential_headers):
                if name in exchange["request"]["headers"] and name not in got.headers:
                    outcome.findings.append(Finding("missing", f"header {name}"))
            self._note_states(rule, _json(exchange["request"]["body"]), _json(emulated))
            outcome.findings += compare_bodies(exchange["request"]["body"], emulated, rule, "")
            outcomes.append(outcome)
        extra = [
            f"the emulator delivered {len(left)} more callback(s) to {path}" for path, left in delivered.items() if left
        ]
        if outcomes and extra:
            outcomes[-1].notes += extra  # a recording may miss deliveries that came after it stopped: not drift
        return outcomes

    def _settle(self, client: httpx.Client) -> None:
        """Poll once more, long after the recording ended, so the states a job ends in count as seen even where
        the emulator was a moment behind the provider at the recorded polls (its pace is a setting, not drift)."""
        self.server.advance(SETTLE)
        for (surface, method, url, content), (headers, count) in self.polls.items():
            if count < 2:
                continue
            rule = self.rules[surface]
            try:
                reply = self._send(client, method, url, content, headers)
            except httpx.HTTPError:
                continue
            emulated = encode_body(reply.content, reply.headers.get("content-type"), rule, None)
            self._note_states(rule, None, emulated.get("json") if isinstance(emulated, dict) else None)

    def _note_states(self, rule: RecordingRules, real: Any, emulated: Any) -> tuple[list[str], list[str]]:
        mine = self.seen.setdefault(rule.surface, (set(), set()))
        one, other = list(states(real, rule.state_fields)), list(states(emulated, rule.state_fields))
        mine[0].update(one)
        mine[1].update(other)
        return one, other

    def _http(self, client: httpx.Client, exchange: dict[str, Any], rule: RecordingRules) -> Outcome:
        request, recorded = exchange["request"], exchange["response"]
        path = substitute(request["path"], self.mapping)
        label = f"{request['method']} {path}"
        body = request["body"]
        if isinstance(body, dict) and "json" in body:
            body = {"json": self._hooked(substitute(body["json"], self.mapping), rule, exchange["seq"])}
        content, media = body_bytes(body, f"drift-{exchange['seq']}")
        headers = {name: value for name, value in request["headers"].items() if name not in ("host", "content-length")}
        headers.update(_stand_ins(headers, rule))
        if media:
            headers["content-type"] = media
        query = self._hooked_query(substitute(request.get("query", ""), self.mapping), rule, exchange["seq"])
        url = self.server.url(rule.surface) + path + (f"?{query}" if query else "")
        poll = (rule.surface, request["method"], url, content)
        self.polls[poll] = (headers, self.polls.get(poll, (headers, 0))[1] + 1)
        real_json = _json(recorded["body"])
        wanted = list(states(real_json, rule.state_fields))
        try:
            reply = self._send(client, request["method"], url, content, headers)
            emulated_body = self._read(reply, rule)
            # A poll that finds the emulator a step behind the provider is sent again as its clock moves on, so
            # the two are compared in the same state (the emulator's pace is a setting, not drift).
            waited = 0.0
            # (a queue may answer 202 while a job waits and 200 once it is done: the status may change on the way.)
            while (
                wanted
                and self._resendable(exchange)
                and self._behind(rule.surface, wanted, list(states(_json(emulated_body), rule.state_fields)))
                and waited < FRAME_CLOCK_LIMIT
            ):
                waited += self._nudge(waited, fine=True)
                reply = self._send(client, request["method"], url, content, headers)
                emulated_body = self._read(reply, rule)
        except httpx.HTTPError as exc:
            outcome = Outcome(exchange["seq"], rule.surface, label, recorded["status"], None)
            outcome.findings.append(Finding("status", "reply", recorded["status"], f"no reply ({exc})"))
            return outcome
        emulated_headers = {name.lower(): value for name, value in reply.headers.items()}
        outcome = Outcome(
            exchange["seq"],
            rule.surface,
            label,
            recorded["status"],
            reply.status_code,
            real=recorded["body"],
            emulated=emulated_body,
        )
        if recorded["status"] != reply.status_code:
            outcome.findings.append(Finding("status", "status", recorded["status"], reply.status_code))
        outcome.findings += compare_headers(recorded["headers"], emulated_headers, rule)
        emulated_json = _json(emulated_body)
        self.mapping.update(pairs(real_json, emulated_json, rule.identity_fields))
        one, other = self._note_states(rule, real_json, emulated_json)
        if one != other and recorded["status"] == reply.status_code:
            outcome.notes.append(
                f"lifecycle states differ at this moment (provider {one}, emulator {other}); shape not compared"
            )
        else:
            outcome.findings += compare_bodies(recorded["body"], emulated_body, rule, "")
        return outcome

    @staticmethod
    def _read(reply: httpx.Response, rule: RecordingRules) -> Any:
        return encode_body(reply.content, reply.headers.get("content-type"), rule, None)

    def _resendable(self, exchange: dict[str, Any]) -> bool:
        """Safe to send again: a read, or a request the client itself sent more than once (a poll)."""
        return exchange["request"]["method"] in ("GET", "HEAD") or self.repeated.get(_request_key(exchange), 0) > 1

    def _behind(self, surface: str, wanted: list[str], current: list[str]) -> bool:
        """Whether the emulator's state comes before the provider's in the order the recording saw states in
        (a state the recording never saw counts as before: one the provider passed between two polls). A reply
        without a state (an error) is not behind: sending it again would not help."""
        order = self.order.get(surface, [])
        target = max((order.index(state) for state in wanted if state in order), default=-1)
        now = max((order.index(state) for state in current if state in order), default=-1)
        return bool(current) and current != wanted and now < target

    def _send(
        self, client: httpx.Client, method: str, url: str, content: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """The reply, moving the emulator's clock on while it has not come (a sync request waits for its job)."""
        future = self.pool.submit(client.request, method, url, content=content, headers=headers)
        waited = 0.0
        while True:
            try:
                return future.result(timeout=FRAME_WAIT if waited else FIRST_WAIT)
            except concurrent.futures.TimeoutError:
                if waited > FRAME_CLOCK_LIMIT:
                    raise httpx.ReadTimeout(f"no reply within {FRAME_CLOCK_LIMIT:g} emulated seconds") from None
                waited += self._nudge(waited)

    def _nudge(self, waited: float, *, fine: bool = False) -> float:
        """Move the emulator's clock on a little: in fine steps while looking for a state (a state shorter than a
        step would be skipped), in coarser ones while waiting for a reply."""
        steps = FINE_STEPS if fine else COARSE_STEPS
        step = next(step for limit, step in steps if waited < limit)
        self.server.advance(step)
        return step

    def _socket(self, exchange: dict[str, Any], rule: RecordingRules) -> Outcome:
        path = exchange["path"]
        outcome = Outcome(exchange["seq"], rule.surface, f"WS {path}", "open", None)
        url = self.server.ws_base + self.server.settings.prefix(rule.surface) + path
        headers = {
            n: v for n, v in (exchange.get("headers") or {}).items() if REDACTED not in v or n == "authorization"
        }
        headers.update(_stand_ins(headers, rule))
        frames = exchange["frames"]
        try:
            channel = connect(url, additional_headers=headers, open_timeout=10, max_size=None)
        except Exception as exc:  # any failure to open is the finding
            outcome.findings.append(Finding("status", "connect", "open", f"refused ({exc})"))
            return outcome
        outcome.emulated_status = "open"
        received: list[Any] = []
        with channel:
            inbox = _Inbox(channel)
            for index, frame in enumerate(frames):
                where = f"frame {index}"
                if frame["from"] == "client":
                    body = frame["body"]
                    if isinstance(body, dict) and "json" in body:
                        body = {"json": self._hooked(substitute(body["json"], self.mapping), rule, exchange["seq"])}
                    content, media = body_bytes(body, f"drift-{exchange['seq']}-{index}")
                    channel.send(
                        content.decode("utf-8") if media is None and body and "base64" not in body else content
                    )
                    continue
                got = self._receive(inbox)
                if got is None:
                    outcome.findings.append(Finding("frames", where, "a server frame", "nothing"))
                    break
                emulated = encode_frame(got, rule, None)
                received.append(emulated)
                real_json = frame["body"].get("json") if isinstance(frame["body"], dict) else None
                emulated_json = emulated.get("json") if isinstance(emulated, dict) else None
                self.mapping.update(pairs(real_json, emulated_json, rule.identity_fields))
                one, other = self._note_states(rule, real_json, emulated_json)
                if one != other:
                    outcome.notes.append(
                        f"{where}: states differ (provider {one}, emulator {other}); shape not compared"
                    )
                    continue
                outcome.findings += compare_bodies(frame["body"], emulated, rule, where)
        outcome.real = [frame["body"] for frame in frames if frame["from"] == "server"]
        outcome.emulated = received
        return outcome

    def _receive(self, inbox: _Inbox) -> str | bytes | None:
        """The next server frame, moving the emulator's clock on while it is not there yet."""
        waited = 0.0
        while waited <= FRAME_CLOCK_LIMIT:
            message = inbox.get(FRAME_WAIT if waited else FIRST_WAIT)
            if message is not None:
                return message
            if inbox.closed:
                return None
            waited += self._nudge(waited)
        return None

    def _lifecycle(self) -> list[Outcome]:
        outcomes = []
        for surface, (real, emulated) in self.seen.items():
            outcome = Outcome(0, surface, "lifecycle states seen", sorted(real), sorted(emulated))
            for state in sorted(real - emulated):
                outcome.findings.append(Finding("state", "lifecycle", state, None))
            for state in sorted(emulated - real):
                outcome.notes.append(f"the emulator showed {state!r}, which this recording did not catch")
            outcomes.append(outcome)
        return outcomes


class _Inbox:
    """Frames of a sync WebSocket read on a thread, so waiting for one can time out without losing it."""

    def __init__(self, channel: ClientConnection) -> None:
        self.frames: queue.Queue[str | bytes] = queue.Queue()
        self.closed = False
        self._thread = threading.Thread(target=self._read, args=(channel,), daemon=True)
        self._thread.start()

    def _read(self, channel: ClientConnection) -> None:
        try:
            for message in channel:
                self.frames.put(message)
        except ConnectionClosed:
            pass
        self.closed = True

    def get(self, timeout: float) -> str | bytes | None:
        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            return None


def _stand_ins(headers: dict[str, str], rule: RecordingRules) -> dict[str, str]:
    """The surface's stand-ins (`drift.headers`) for headers the cassette holds redacted."""
    return {name: value for name, value in rule.drift_headers.items() if REDACTED in headers.get(name, "")}


def _json(body: Any) -> Any:
    return body.get("json") if isinstance(body, dict) else None


def _request_key(exchange: dict[str, Any]) -> str:
    request = exchange["request"]
    return json.dumps([exchange["surface"], request["method"], request["path"], request["body"]], sort_keys=True)


def run_drift(path: str, *, timing: str = "realistic", seed: int = 0) -> DriftReport:
    return Drift(Cassette.read(path), path, timing=timing, seed=seed).run()


def events(report: DriftReport) -> Iterator[Event]:
    """The report as a harness event stream, so the JUnit and HTML reporters write it like any other run."""
    surfaces = list(dict.fromkeys(outcome.surface for outcome in report.outcomes))
    checks = tuple(
        CheckInfo(
            surface,
            f"{surface}: the emulator's replies against the recorded ones",
            "Providers change their APIs; an emulator that drifts from them gives false verdicts.",
            f"recorded in {report.cassette}",
        )
        for surface in surfaces
    )
    yield RunStarted("the emulator", f"drift: {report.cassette}", 0, checks, "in-process, on a manual clock")
    results = []
    for check in checks:
        yield CheckStarted(check)
        mine = [outcome for outcome in report.outcomes if outcome.surface == check.id]
        for outcome in mine:
            result = CaseResult(
                check=check.id,
                case=str(outcome.seq) if outcome.seq else "lifecycle",
                title=outcome.label,
                status="failed" if outcome.drifted else "passed",
                message="; ".join(finding.text() for finding in outcome.findings) or "; ".join(outcome.notes),
                duration=outcome.duration,
                details={
                    "status": {"provider": outcome.real_status, "emulator": outcome.emulated_status},
                    "findings": [finding.as_dict() for finding in outcome.findings],
                    "notes": outcome.notes,
                },
                exchanges=[{"provider": outcome.real, "emulator": outcome.emulated}] if outcome.drifted else [],
            )
            results.append(result)
            yield CaseFinished(result)
        failed = sum(outcome.drifted for outcome in mine)
        yield CheckFinished(check, len(mine) - failed, failed, 0)
    yield RunFinished(not report.drifted, report.duration, tuple(results))


def table(report: DriftReport) -> str:
    """The report as a plain-text table, one row per exchange, then every finding."""
    rows = [("seq", "surface", "request", "provider", "emulator", "drift")]
    for outcome in report.outcomes:
        rows.append(
            (
                str(outcome.seq) if outcome.seq else "-",
                outcome.surface,
                outcome.label[:48],
                _cell(outcome.real_status),
                _cell(outcome.emulated_status),
                str(len(outcome.findings)) if outcome.findings else "ok",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    for outcome in report.outcomes:
        for finding in outcome.findings:
            lines.append(f"DRIFT {outcome.surface} #{outcome.seq or 'lifecycle'} {finding.kind}: {finding.text()}")
    total = sum(len(outcome.findings) for outcome in report.outcomes)
    exchanges = sum(1 for outcome in report.outcomes if outcome.seq)
    if report.skipped:
        lines.append(f"not checked (no recording rules here): {', '.join(report.skipped)}")
    verdict = f"DRIFT: {total} difference(s)" if total else "NO DRIFT"
    lines.append(f"\n{verdict} over {exchanges} exchange(s) in {report.duration:.1f} s")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value) or "-"
    return "-" if value is None else str(value)


def as_json(report: DriftReport) -> str:
    return json.dumps(
        {
            "cassette": report.cassette,
            "drift": report.drifted,
            "outcomes": [
                {
                    "seq": o.seq,
                    "surface": o.surface,
                    "request": o.label,
                    "findings": [f.as_dict() for f in o.findings],
                    "notes": o.notes,
                }
                for o in report.outcomes
            ],
        },
        indent=2,
    )


__all__: Sequence[str] = ["DriftReport", "Finding", "compare", "events", "run_drift", "table"]
