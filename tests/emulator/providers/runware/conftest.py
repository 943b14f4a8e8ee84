"""Fixtures for the Runware surface: an in-process emulator with Runware-shaped calls (task arrays over REST), and
the sessions of the WebSocket transport of a live one."""

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
from emulator.providers import Surface
from emulator.providers.runware.socket import Sessions, SocketRoute
from tests.conftest import EmulatorFactory, SurfaceHelper
from tests.support import inference

KEY = "test-key"
TASKS = "/v1"


def auth(key: str | None = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key is not None else {}


def sessions(surface: Surface) -> Sessions:
    """The WebSocket sessions of a Runware surface, and through them the sockets attached to each."""
    [route] = [route for route in surface.routes if isinstance(route, SocketRoute)]
    return route.sessions


@dataclass
class Runware(SurfaceHelper):
    """The emulator serving Runware at `prefix` ("/runware" with provider="all", "" with provider="runware")."""

    prefix: str = "/runware"

    async def create(self, *tasks: Any, key: str | None = KEY, **kwargs: Any) -> httpx.Response:
        """A task array POSTed as JSON, with `key` as the Bearer token (none when None); the reply unchecked."""
        return await self.client.post(self.path(TASKS), json=list(tasks), headers=auth(key), **kwargs)

    async def poll(self, task_uuid: str, key: str | None = KEY) -> httpx.Response:
        """getResponse for one task."""
        return await self.create({"taskType": "getResponse", "taskUUID": task_uuid}, key=key)

    async def finished(self, **overrides: Any) -> list[dict[str, Any]]:
        """The result items of an accepted sync `inference(**overrides)` (instant timing finishes it at once)."""
        response = await self.create(inference(**overrides))
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        items: list[dict[str, Any]] = body["data"]
        return items

    def entries(self) -> list[Entry]:
        """The journal entries of Runware requests and frames, oldest first."""
        return self.runtime.journal.entries(surface="runware")

    async def image(self, item: dict[str, Any]) -> bytes:
        """The bytes of a result item's image, downloaded or inline."""
        if "imageURL" in item:
            response = await self.client.get(item["imageURL"])
            assert response.status_code == 200, item["imageURL"]
            return response.content
        if "imageDataURI" in item:
            return base64.b64decode(item["imageDataURI"].split(",", 1)[1])
        return base64.b64decode(item["imageBase64Data"])

    async def record(self, item: dict[str, Any]) -> dict[str, Any]:
        """The evidence record of a result item's image."""
        return read_metadata(await self.image(item))


RunwareFactory = Callable[..., Awaitable[Runware]]


@pytest.fixture
async def make_runware(make_emulator: EmulatorFactory) -> RunwareFactory:
    async def factory(clock: ManualClock | None = None, **settings: Any) -> Runware:
        prefix = "" if settings.get("provider") == "runware" else "/runware"
        return Runware(await make_emulator(clock=clock, **settings), prefix)

    return factory


@pytest.fixture
async def runware(make_runware: RunwareFactory) -> Runware:
    return await make_runware()
