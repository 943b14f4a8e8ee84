"""`seedream-conformance adapter-check COMMAND`: does a JSON-lines adapter speak the protocol, before a run starts?

Starts COMMAND, waits for its ready line, then sends the requests a run would send first, against an emulator of
its own: a valid generate, a generate outside the provider's contract, and start/cancel/wait or verify_webhook
when the adapter claims those capabilities. Every message the adapter prints is checked against
contracts/adapter/protocol.json; a reply that breaks it, carries the wrong id or never comes is an error (exit 1).
What the replies say (a failed valid request, images for an invalid one) is only a warning: judging the client
is the run's job.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts import adapter as protocol

from .handle import InProcess
from .profiles import load_profile

READY_TIMEOUT = 60.0
REPLY_GRACE = 10.0  # beyond a request's own timeout, before the missing reply is an error
LINE_LIMIT = 512 * 2**20


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    say: Callable[[str], None] = print

    def ok(self, step: str, text: str) -> None:
        self._line("ok   ", step, text)

    def error(self, step: str, text: str) -> None:
        self.errors += 1
        self._line("ERROR", step, text)

    def warn(self, step: str, text: str) -> None:
        self.warnings += 1
        self._line("warn ", step, text)

    def _line(self, mark: str, step: str, text: str) -> None:
        line = f"  {mark} {step}: {text}"
        self.lines.append(line)
        self.say(line)


class AdapterGone(Exception):
    """The adapter exited, or did not answer in time: nothing more can be checked."""


class Conversation:
    def __init__(self, process: asyncio.subprocess.Process, report: Report) -> None:
        self.process = process
        self.report = report
        self.ids = iter(range(1, 1_000_000))

    async def line(self, step: str, timeout: float) -> dict[str, Any]:
        """The next JSON object the adapter prints; other lines are noted and skipped, as the harness skips them."""
        assert self.process.stdout is not None
        while True:
            try:
                raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            except TimeoutError:
                raise AdapterGone(f"{step}: nothing within {timeout:.0f} s") from None
            if not raw:
                raise AdapterGone(f"{step}: the adapter exited (code {await self.process.wait()})")
            try:
                value = json.loads(raw)
            except ValueError:
                self.report.warn(step, f"ignored a line that is not JSON: {raw[:80]!r}")
                continue
            if isinstance(value, dict):
                return value
            self.report.warn(step, f"ignored a JSON line that is not an object: {raw[:80]!r}")

    async def ask(self, step: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """Send one request, check its reply against the protocol; the reply if it is valid."""
        assert self.process.stdin is not None
        call_id = str(next(self.ids))
        message = {"id": call_id, **request}
        problems = protocol.violations(message, "request")
        assert not problems, problems  # the check's own requests must be valid, or its verdicts mean nothing
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        await self.process.stdin.drain()
        reply = await self.line(step, float(request["timeout"]) + REPLY_GRACE)
        if reply.get("id") != call_id:
            self.report.error(step, f"the reply carries id {reply.get('id')!r}; the request's id was {call_id!r}")
            return None
        problems = protocol.violations(reply, protocol.REPLIES[request["op"]])
        for problem in problems:
            self.report.error(step, problem)
        return None if problems else reply


async def check_adapter(command: Sequence[str], provider: str, report: Report | None = None) -> Report:
    report = report or Report()
    profile = load_profile(provider)
    emulator = InProcess.start(timing="fast", seed=0)
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        limit=LINE_LIMIT,
    )
    try:
        await _converse(Conversation(process, report), profile, emulator)
    except AdapterGone as gone:
        report.error("adapter", str(gone))
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        emulator.close()
    return report


async def _converse(talk: Conversation, profile: Any, emulator: InProcess) -> None:
    report = talk.report
    ready = await talk.line("ready", READY_TIMEOUT)
    problems = protocol.violations(ready, "ready")
    for problem in problems:
        report.error("ready", problem)
    if problems:
        return
    capabilities = list(ready.get("capabilities", []))
    report.ok("ready", f"name {ready.get('name', '(none)')!r}, capabilities: {', '.join(capabilities) or 'none'}")

    def request(op: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "op": op,
            "provider": profile.provider,
            "base_url": profile.base_url(emulator),
            "credentials": profile.credentials(),
            "body": body,
            "timeout": 30.0,
            "webhook_url": None,
            **extra,
        }

    valid = profile.body("adapter-check: a valid request")
    reply = await talk.ask("generate (a valid request)", request("generate", valid))
    if reply is not None:
        _judge(report, "generate (a valid request)", reply, want_images=True)
    invalid = next(case for case in profile.invalid_cases(0, 0) if case.refused_by == "request")
    reply = await talk.ask(f"generate ({invalid.title})", request("generate", dict(invalid.body)))
    if reply is not None:
        _judge(report, f"generate ({invalid.title})", reply, want_images=False)
    if "cancel" in capabilities:
        started = await talk.ask("start", request("start", valid))
        if started is not None:
            report.ok("start", f"job {started['job_id']}")
            job = {"job_id": started["job_id"]}
            if await talk.ask("cancel", request("cancel", valid, **job)) is not None:
                report.ok("cancel", "answered")
            waited = await talk.ask("wait", request("wait", valid, **job))
            if waited is not None:
                report.ok("wait", _outcome(waited))
    if "webhooks" in capabilities:
        unsigned = {"headers": {"content-type": "application/json"}, "body_base64": base64.b64encode(b"{}").decode()}
        verdict = await talk.ask("verify_webhook (an unsigned delivery)", request("verify_webhook", valid, **unsigned))
        if verdict is not None and verdict["accepted"]:
            report.warn("verify_webhook (an unsigned delivery)", "accepted a delivery with no signature")
        elif verdict is not None:
            report.ok("verify_webhook (an unsigned delivery)", f"refused: {verdict.get('reason', '')}")


def _outcome(reply: dict[str, Any]) -> str:
    if "failure" in reply:
        return f"failure {reply['failure']['kind']}: {reply['failure']['message'][:120]}"
    return f"{len(reply['images'])} image(s)"


def _judge(report: Report, step: str, reply: dict[str, Any], want_images: bool) -> None:
    failed = "failure" in reply
    if failed == want_images or (want_images and not reply["images"]):
        report.warn(step, f"valid reply, but {'no images' if want_images else 'images'} ({_outcome(reply)})")
    else:
        report.ok(step, _outcome(reply))
