"""Drive a client in another process (another language, another virtualenv) over JSON lines.

Protocol, one JSON object per line each way:

    harness -> client   {"id": "7", "op": "generate", "provider": ..., "base_url": ..., "credentials": {...},
                         "body": {...}, "timeout": 30.0, "webhook_url": null}
    client -> harness   {"id": "7", "images": [{"url": "..."} | {"base64": "..."}], "job_id": "..."}
                     or {"id": "7", "failure": {"kind": "rate_limited", "message": "...", "code": 429}}

On start the client first prints {"ready": true, "name": "...", "capabilities": []}. With capability
"cancel" it must also answer "start" (reply with "job_id"), "cancel" ({"id", "job_id"} in, {"id"} out)
and "wait" ({"id", "job_id"} in, a generate reply out). With capability "webhooks" it answers
"verify_webhook" ({"id", "headers", "body_base64", ...request} in, {"id", "accepted", "reason"} out):
would it trust this delivery? Capability "websocket" (nothing to answer) says the client talks over a
WebSocket, which adds the dropped-socket scenario. Anything else the client prints on stdout that
is not JSON is ignored; stderr is passed through. The harness restarts the process when a request
outlives its bound, so one hung call cannot poison the next.

The same protocol as a JSON Schema is contracts/adapter/protocol.json; `seedream-conformance adapter-check`
validates a client's messages against it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from .base import CANCEL, Failure, GenerateRequest, GenerateResult, ImageResult, WebhookVerdict

LINE_LIMIT = 512 * 2**20
READY_TIMEOUT = 60.0


class SubprocessAdapter:
    def __init__(
        self, command: Sequence[str], *, name: str, provider: str, env: Mapping[str, str] | None = None
    ) -> None:
        self.command = list(command)
        self.name = name
        self.provider = provider
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.capabilities: frozenset[str] = frozenset()
        self._process: asyncio.subprocess.Process | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        return _result(await self._call({"op": "generate", **request.as_json()}))

    async def start(self, request: GenerateRequest) -> str:
        reply = await self._call({"op": "start", **request.as_json()})
        if "job_id" not in reply:
            raise RuntimeError(f"the client did not start a job: {reply}")
        return str(reply["job_id"])

    async def cancel(self, request: GenerateRequest, job_id: str) -> None:
        await self._call({"op": "cancel", "job_id": job_id, **request.as_json()})

    async def wait(self, request: GenerateRequest, job_id: str) -> GenerateResult:
        return _result(await self._call({"op": "wait", "job_id": job_id, **request.as_json()}))

    async def verify_webhook(self, request: GenerateRequest, headers: Mapping[str, str], body: bytes) -> WebhookVerdict:
        message = {
            "op": "verify_webhook",
            **request.as_json(),
            "headers": dict(headers),
            "body_base64": base64.b64encode(body).decode(),
        }
        reply = await self._call(message)
        return WebhookVerdict(reply.get("accepted") is True, str(reply.get("reason", "")))

    async def open(self) -> SubprocessAdapter:
        await self._ensure()
        return self

    async def aclose(self) -> None:
        await self._stop()

    async def _call(self, message: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            process = await self._ensure()
            assert process.stdin is not None and process.stdout is not None
            call_id = str(next(self._ids))
            process.stdin.write(json.dumps({"id": call_id, **message}).encode() + b"\n")
            try:
                await process.stdin.drain()
                while True:
                    line = await process.stdout.readline()
                    if not line:
                        raise ConnectionError(f"the client process exited (code {process.returncode})")
                    reply = _parse(line)
                    if reply is not None and reply.get("id") == call_id:
                        return reply
            except BaseException:
                # A cancelled or broken call leaves the process mid-answer: start afresh next time.
                await self._stop()
                raise

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self._process is not None and self._process.returncode is None:
            return self._process
        self._process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,  # inherited: the client's own diagnostics reach the terminal
            env=self.env,
            limit=LINE_LIMIT,
        )
        await self._handshake(self._process)
        return self._process

    async def _handshake(self, process: asyncio.subprocess.Process) -> None:
        """Wait for the client's ready line (other output before it is ignored)."""
        assert process.stdout is not None
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                line = await asyncio.wait_for(process.stdout.readline(), max(0.0, remaining))
            except TimeoutError:
                raise ConnectionError(f"the client printed no ready line within {READY_TIMEOUT:.0f} s") from None
            if not line:
                raise ConnectionError(f"the client process exited before it was ready (code {await process.wait()})")
            ready = _parse(line)
            if ready and ready.get("ready"):
                self.capabilities = frozenset(str(c) for c in ready.get("capabilities", ()))
                self.name = str(ready.get("name") or self.name)
                return

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.kill()
        await process.wait()


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _result(reply: Mapping[str, Any]) -> GenerateResult:
    failure = reply.get("failure")
    if isinstance(failure, dict):
        return GenerateResult(
            failure=Failure(
                str(failure.get("kind", "crash")),
                str(failure.get("message", "")),
                failure.get("code"),
                failure.get("exception"),
            ),
            job_id=reply.get("job_id"),
        )
    images = []
    for image in reply.get("images") or []:
        if "base64" in image:
            images.append(ImageResult(data=base64.b64decode(image["base64"])))
        else:
            images.append(ImageResult(url=image.get("url")))
    return GenerateResult(images=images, job_id=reply.get("job_id"))


__all__ = ["CANCEL", "SubprocessAdapter"]
