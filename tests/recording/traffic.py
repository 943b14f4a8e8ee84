"""A fixed piece of client traffic over every recordable surface, and the servers it needs, for record/replay/drift.

The "real provider" in these tests is a second emulator configured differently; the client below talks to
whatever base URL it is given (the recording proxy, a replaying emulator), as a user's client would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from websockets.sync.client import connect

from conformance.server import free_port

from ..support import FilePart

POLL = 0.03
DEADLINE = 20.0


@dataclass(frozen=True)
class Keys:
    """The credentials a client holds; none of them may appear in a cassette."""

    bearer: str = "sk-live-5f3c9a1e7d2b4c68a0e1f2d3c4b5a697"
    runware: str = "rw-live-9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
    wiro_key: str = "wiro-live-key-0a1b2c3d4e5f"
    wiro_secret: str = "wiro-live-secret-6a7b8c9d0e1f"

    def all(self) -> list[str]:
        return [self.bearer, self.runware, self.wiro_key, self.wiro_secret]


def image_bytes(width: int = 40, height: int = 30, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, fmt)
    return out.getvalue()


class Served:
    """An ASGI app on a free port in a background thread."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", timeout_graceful_shutdown=1)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Hooks:
    """The client's own webhook receiver: what arrived, per path."""

    received: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.received.append(
                {"path": request.url.path, "headers": dict(request.headers), "body": (await request.body()).decode()}
            )
            return JSONResponse({"ok": True})

        return Starlette(routes=[Route("/{name}", receive, methods=["POST", "PUT"])])

    def wait(self, path: str, count: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            found = [item for item in self.received if item["path"] == path]
            if len(found) >= count:
                return found
            time.sleep(POLL)
        raise AssertionError(f"no callback at {path}; got {[item['path'] for item in self.received]}")


class PatchedField:
    """Stands in for a provider that changed its API: EvoLink task replies lose `progress` and gain `eta`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/evolink/v1/tasks/"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                document = json.loads(body)
                if isinstance(document, dict) and "progress" in document:
                    document.pop("progress")
                    document["eta"] = 3
                    body = json.dumps(document).encode()
            except ValueError:
                pass
            headers = [(n, v) for n, v in start.get("headers", []) if n.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


def _wiro_headers(keys: Keys, nonce: int) -> dict[str, str]:
    digest = hmac.new(keys.wiro_key.encode(), (keys.wiro_secret + str(nonce)).encode(), hashlib.sha256).hexdigest()
    return {"x-api-key": keys.wiro_key, "x-nonce": str(nonce), "x-signature": digest}


def _until(call: Any, done: Any) -> Any:
    deadline = time.monotonic() + DEADLINE
    while True:
        reply = call()
        if done(reply) or time.monotonic() > deadline:
            return reply
        time.sleep(POLL)


@dataclass
class Seen:
    """What the client got back, for tests to compare between recording and replay."""

    replies: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, list[Any]] = field(default_factory=dict)


def drive(base: str, ws_base: str, keys: Keys, hooks: str, task_uuids: list[str] | None = None) -> Seen:
    """The traffic: EvoLink create/poll/error with a callback, Runware REST and WebSocket inference plus an inline
    image upload, Wiro multipart Run, socket and Detail with a callback, Replicate secret, create/poll and webhook.
    `task_uuids` fixes the Runware taskUUIDs (a new run of the same client makes new ones)."""
    uuids = iter(task_uuids or [str(uuid.uuid4()) for _ in range(4)])
    seen = Seen()
    bearer = {"Authorization": f"Bearer {keys.bearer}"}
    nonce = int(time.time() * 1000)
    with httpx.Client(base_url=base, timeout=30) as http:
        created = http.post(
            "/evolink/v1/images/generations",
            headers=bearer,
            json={
                "model": "doubao-seedream-4.0",
                "prompt": "a red fox",
                "size": "1:1",
                "callback_url": f"{hooks}/evolink",
            },
        )
        seen.replies["evolink.create"] = (created.status_code, created.json())
        task = created.json()["id"]
        polled = _until(
            lambda: http.get(f"/evolink/v1/tasks/{task}", headers=bearer),
            lambda r: r.json().get("status") in ("completed", "failed"),
        )
        seen.replies["evolink.poll"] = (polled.status_code, polled.json())
        bad = http.post("/evolink/v1/images/generations", headers=bearer, json={"model": "doubao-seedream-4.0"})
        seen.replies["evolink.bad"] = (bad.status_code, bad.json())

        auth = {"taskType": "authentication", "apiKey": keys.runware}
        inference = {
            "taskType": "imageInference",
            "taskUUID": next(uuids),
            "model": "bytedance:5@0",
            "positivePrompt": "a lighthouse at dusk",
            "width": 1024,
            "height": 1024,
            "outputType": "dataURI",
        }
        webhook = {**inference, "taskUUID": next(uuids), "outputType": "URL", "webhookURL": f"{hooks}/runware"}
        sync = http.post("/runware/v1", json=[auth, inference])
        seen.replies["runware.inference"] = (sync.status_code, sync.json())
        hooked = http.post("/runware/v1", json=[auth, webhook])
        seen.replies["runware.webhook"] = (hooked.status_code, hooked.json())
        upload = {
            "taskType": "imageUpload",
            "taskUUID": next(uuids),
            "image": "data:image/png;base64," + base64.b64encode(image_bytes(64, 48)).decode(),
        }
        uploaded = http.post("/runware/v1", json=[auth, upload])
        seen.replies["runware.upload"] = (uploaded.status_code, uploaded.json())

        files: list[FilePart] = [
            ("inputImage", ("local.jpg", image_bytes(32, 32, "JPEG"), "image/jpeg")),
            ("prompt", (None, "a serene desert")),
        ]
        run = http.post("/wiro/v1/Run/bytedance/seedream-v4", headers=_wiro_headers(keys, nonce), files=files)
        seen.replies["wiro.run"] = (run.status_code, run.json())
        token, taskid = run.json()["socketaccesstoken"], run.json()["taskid"]
        nonces = iter(range(nonce + 1, nonce + 10_000))
        detail = _until(
            lambda: http.post(
                "/wiro/v1/Task/Detail", headers=_wiro_headers(keys, next(nonces)), json={"taskid": taskid}
            ),
            lambda r: r.json()["tasklist"][0]["status"] in ("task_postprocess_end", "task_cancel"),
        )
        seen.replies["wiro.detail"] = (detail.status_code, detail.json())

        secret = http.get("/replicate/v1/webhooks/default/secret", headers=bearer)
        seen.replies["replicate.secret"] = (secret.status_code, secret.json())
        prediction = http.post(
            "/replicate/v1/models/bytedance/seedream-4/predictions",
            headers=bearer,
            json={
                "input": {"prompt": "a quiet harbour", "size": "1K"},
                "webhook": f"{hooks}/replicate",
                "webhook_events_filter": ["completed"],
            },
        )
        seen.replies["replicate.create"] = (prediction.status_code, prediction.json())
        identifier = prediction.json()["id"]
        done = _until(
            lambda: http.get(f"/replicate/v1/predictions/{identifier}", headers=bearer),
            lambda r: r.json().get("status") in ("succeeded", "failed", "canceled"),
        )
        seen.replies["replicate.poll"] = (done.status_code, done.json())

    with connect(f"{ws_base}/runware/v1", open_timeout=10) as socket:
        socket.send(json.dumps([auth]))
        frames = [json.loads(socket.recv(timeout=10))]
        socket.send(json.dumps([{**inference, "taskUUID": next(uuids), "outputType": "URL"}]))
        frames.append(json.loads(socket.recv(timeout=10)))
        seen.frames["runware"] = frames

    second = http_run(base, keys, nonce + 100)
    with connect(f"{ws_base}/wiro/v1", open_timeout=10) as socket:
        frames = [json.loads(socket.recv(timeout=10))]
        socket.send(json.dumps({"type": "task_info", "tasktoken": second}))
        frames.append(json.loads(socket.recv(timeout=10)))
        while not frames[-1].get("terminal", True):
            frames.append(json.loads(socket.recv(timeout=10)))
        seen.frames["wiro"] = frames
    del token
    return seen


def http_run(base: str, keys: Keys, nonce: int) -> str:
    """A JSON Wiro Run (for the socket); its socketaccesstoken."""
    with httpx.Client(base_url=base, timeout=30) as http:
        reply = http.post(
            "/wiro/v1/Run/bytedance/seedream-v4", headers=_wiro_headers(keys, nonce), json={"prompt": "a calm sea"}
        )
        token: str = reply.json()["socketaccesstoken"]
        return token
