"""Fixtures for the Replicate surface: an in-process emulator with Replicate-shaped helpers."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator import read_metadata
from emulator.core.clock import ManualClock
from emulator.core.journal import Entry
from emulator.providers.replicate.models import ReplicateService
from tests.conftest import EmulatorFactory, SurfaceHelper
from tests.support import contract_errors

TOKEN = "r8_test_token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODEL_PATH = "/v1/models/bytedance/seedream-4/predictions"


@dataclass
class Replicate(SurfaceHelper):
    """The emulator serving Replicate at `prefix` ("" with provider="replicate", "/replicate" with all)."""

    @property
    def service(self) -> ReplicateService:
        service: ReplicateService = self.emulator.app.state.emulator.surface("replicate").service
        return service

    def entries(self) -> list[Entry]:
        """The journal entries of Replicate requests, oldest first."""
        return self.runtime.journal.entries(surface="replicate")

    async def create(
        self,
        input: dict[str, Any] | None = None,
        *,
        prefer: str | None = None,
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        sent = {**AUTH, **(headers or {})}
        if prefer is not None:
            sent["Prefer"] = prefer
        payload = {"input": {"prompt": "a red fox in fresh snow", **(input or {})}, **body}
        return await self.client.post(self.path(MODEL_PATH), json=payload, headers=sent)

    async def create_version(self, body: dict[str, Any], *, prefer: str | None = None) -> httpx.Response:
        headers = {**AUTH, **({"Prefer": prefer} if prefer else {})}
        return await self.client.post(self.path("/v1/predictions"), json=body, headers=headers)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        target = path if path.startswith(("/", "http")) else self.path(f"/v1/{path}")
        return await self.client.get(target, headers=AUTH, **kwargs)

    async def prediction(self, prediction_id: str) -> dict[str, Any]:
        response = await self.get(f"predictions/{prediction_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert contract_errors("replicate", "prediction", body) == []
        return body

    async def cancel(self, prediction_id: str) -> httpx.Response:
        return await self.client.post(self.path(f"/v1/predictions/{prediction_id}/cancel"), headers=AUTH)

    async def run(self, input: dict[str, Any] | None = None, **body: Any) -> dict[str, Any]:
        """Create with Prefer: wait (instant timing finishes at once) and return the succeeded prediction."""
        response = await self.create(input, prefer="wait", **body)
        assert response.status_code == 201, response.text
        return response.json()

    async def upload(
        self, data: bytes = b"hello", name: str = "hello.txt", content_type: str = "text/plain", **fields: str
    ) -> httpx.Response:
        """POST /v1/files: the file in the `content` part, `fields` (filename, type, metadata) beside it."""
        files = {"content": (name, data, content_type)}
        return await self.client.post(self.path("/v1/files"), files=files, data=fields, headers=AUTH)

    async def uploaded(self, data: bytes, name: str = "input.png", content_type: str = "image/png") -> dict[str, Any]:
        """The file object of a successful upload."""
        response = await self.upload(data, name, content_type)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body


def decode_output(item: str) -> bytes:
    header, _, encoded = item.partition(",")
    assert header == "data:image/jpeg;base64"
    return base64.b64decode(encoded)


def metadata(item: str) -> dict[str, Any]:
    return read_metadata(decode_output(item))


async def output_metadata(replicate: Replicate, item: str) -> dict[str, Any]:
    """The evidence record of an output, inlined (`data:`) or at one of the emulator's file URLs."""
    if item.startswith("data:"):
        return metadata(item)
    response = await replicate.client.get(item)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg", item
    return read_metadata(response.content)


ReplicateFactory = Callable[..., Awaitable[Replicate]]


@pytest.fixture
async def make_replicate(make_emulator: EmulatorFactory) -> ReplicateFactory:
    async def factory(clock: ManualClock | None = None, **settings: Any) -> Replicate:
        settings.setdefault("provider", "replicate")
        prefix = "/replicate" if settings["provider"] == "all" else ""
        return Replicate(await make_emulator(clock=clock, **settings), prefix)

    return factory


@pytest.fixture
async def replicate(make_replicate: ReplicateFactory) -> Replicate:
    return await make_replicate()
