"""One small driver per surface so fault tests can run the same scenario on every surface."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import httpx

from contracts.counts import ask
from emulator.providers.wiro.auth import signature
from tests.support import contract_errors, inference

_nonces = itertools.count(1)


@dataclass
class Reply:
    status: int
    body: Any
    headers: httpx.Headers


class Driver(ABC):
    surface = ""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @abstractmethod
    async def submit(
        self, prompt: str = "a lighthouse", *, images: int = 1, callback: str | None = None
    ) -> tuple[Reply, str | None]:
        """Create a job; the reply and the job's id."""

    @abstractmethod
    async def poll(self, job: str) -> Reply:
        """The surface's view of a job."""

    @abstractmethod
    def state(self, reply: Reply) -> str:
        """queued, running, succeeded or failed."""

    @abstractmethod
    def images(self, reply: Reply) -> int:
        """How many images a finished job made."""

    @abstractmethod
    def failure(self, reply: Reply) -> str:
        """The provider's code or text for a failed job."""

    @abstractmethod
    def is_error(self, reply: Reply) -> bool:
        """The reply is this surface's own error shape."""

    @staticmethod
    def _reply(response: httpx.Response) -> Reply:
        return Reply(response.status_code, response.json(), response.headers)


class Runware(Driver):
    surface = "runware"

    async def submit(
        self, prompt: str = "a lighthouse", *, images: int = 1, callback: str | None = None
    ) -> tuple[Reply, str | None]:
        task = inference(positivePrompt=prompt, deliveryMethod="async", numberResults=images, width=1024, height=1024)
        if callback:
            task["webhookURL"] = callback
        response = await self.client.post("/runware/v1", json=[task], headers={"Authorization": "Bearer key"})
        return self._reply(response), task["taskUUID"]

    async def poll(self, job: str) -> Reply:
        response = await self.client.post(
            "/runware/v1", json=[{"taskType": "getResponse", "taskUUID": job}], headers={"Authorization": "Bearer key"}
        )
        return self._reply(response)

    def state(self, reply: Reply) -> str:
        if "errors" in reply.body:
            return "failed"
        statuses = {item["status"] for item in reply.body["data"]}
        return "succeeded" if statuses == {"success"} else "running"

    def images(self, reply: Reply) -> int:
        return sum(item.get("status") == "success" for item in reply.body.get("data", []))

    def failure(self, reply: Reply) -> str:
        return reply.body["errors"][0]["code"]

    def is_error(self, reply: Reply) -> bool:
        return "errors" in reply.body and contract_errors("runware", "response", reply.body) == []


class EvoLink(Driver):
    surface = "evolink"
    headers = {"Authorization": "Bearer key"}

    async def submit(
        self, prompt: str = "a lighthouse", *, images: int = 1, callback: str | None = None
    ) -> tuple[Reply, str | None]:
        body: dict[str, Any] = {
            "model": "doubao-seedream-4.0",
            "prompt": ask(prompt, images),
            "n": images,
            "size": "1:1",
            "quality": "1K",
        }
        if callback:
            body["callback_url"] = callback
        reply = self._reply(await self.client.post("/evolink/v1/images/generations", json=body, headers=self.headers))
        return reply, reply.body.get("id")

    async def poll(self, job: str) -> Reply:
        return self._reply(await self.client.get(f"/evolink/v1/tasks/{job}", headers=self.headers))

    def state(self, reply: Reply) -> str:
        return {"pending": "queued", "processing": "running", "completed": "succeeded"}.get(
            reply.body["status"], "failed"
        )

    def images(self, reply: Reply) -> int:
        return len(reply.body.get("results", []))

    def failure(self, reply: Reply) -> str:
        return reply.body["error"]["code"]

    def is_error(self, reply: Reply) -> bool:
        error = reply.body.get("error") if isinstance(reply.body, dict) else None
        return isinstance(error, dict) and {"code", "message", "type"} <= set(error)


class Wiro(Driver):
    surface = "wiro"

    def _headers(self) -> dict[str, str]:
        nonce = str(next(_nonces))
        return {
            "x-api-key": "wiro-dev-key",
            "x-nonce": nonce,
            "x-signature": signature("wiro-dev-key", "wiro-dev-secret", nonce),
        }

    async def submit(
        self, prompt: str = "a lighthouse", *, images: int = 1, callback: str | None = None
    ) -> tuple[Reply, str | None]:
        body: dict[str, Any] = {"prompt": ask(prompt, images), "size": "2048x2048", "maxImages": images}
        if callback:
            body["callbackUrl"] = callback
        response = await self.client.post("/wiro/v1/Run/bytedance/seedream-v4", json=body, headers=self._headers())
        reply = self._reply(response)
        return reply, reply.body.get("taskid") if isinstance(reply.body, dict) else None

    async def poll(self, job: str) -> Reply:
        return self._reply(
            await self.client.post("/wiro/v1/Task/Detail", json={"taskid": job}, headers=self._headers())
        )

    def state(self, reply: Reply) -> str:
        record = reply.body["tasklist"][0]
        if record["status"] in ("task_queue",):
            return "queued"
        if record["status"] != "task_postprocess_end":
            return "running"
        return "succeeded" if record["pexit"] == "0" else "failed"

    def images(self, reply: Reply) -> int:
        return len(reply.body["tasklist"][0]["outputs"])

    def failure(self, reply: Reply) -> str:
        return reply.body["tasklist"][0]["debugerror"]

    def is_error(self, reply: Reply) -> bool:
        body = reply.body
        return (
            isinstance(body, dict)
            and body.get("result") is False
            and isinstance(body.get("errors"), list)
            and bool(body["errors"])
        )


class Replicate(Driver):
    surface = "replicate"
    headers = {"Authorization": "Bearer r8_key"}

    async def submit(
        self, prompt: str = "a lighthouse", *, images: int = 1, callback: str | None = None
    ) -> tuple[Reply, str | None]:
        input_: dict[str, Any] = {"prompt": ask(prompt, images), "size": "1K"}
        if images > 1:
            input_.update(sequential_image_generation="auto", max_images=images)
        body: dict[str, Any] = {"input": input_}
        if callback:
            body.update(webhook=callback, webhook_events_filter=["completed"])
        response = await self.client.post(
            "/replicate/v1/models/bytedance/seedream-4/predictions", json=body, headers=self.headers
        )
        reply = self._reply(response)
        return reply, reply.body.get("id") if response.status_code == 201 else None

    async def poll(self, job: str) -> Reply:
        return self._reply(await self.client.get(f"/replicate/v1/predictions/{job}", headers=self.headers))

    def state(self, reply: Reply) -> str:
        return {"starting": "queued", "processing": "running", "succeeded": "succeeded"}.get(
            reply.body["status"], "failed"
        )

    def images(self, reply: Reply) -> int:
        return len(reply.body.get("output") or [])

    def failure(self, reply: Reply) -> str:
        return reply.body["error"]

    def is_error(self, reply: Reply) -> bool:
        return reply.headers.get("content-type", "").startswith("application/problem+json") and {
            "detail",
            "status",
        } <= set(reply.body)


DRIVERS: dict[str, type[Driver]] = {"runware": Runware, "evolink": EvoLink, "wiro": Wiro, "replicate": Replicate}
