"""Fixtures for the Ark surface: an in-process emulator with Ark-shaped calls that check every reply against the
contract, valid generation bodies, and a reader for its Server-Sent Events."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator import read_metadata
from emulator.core.journal import Entry
from tests.conftest import EmulatorFactory, SurfaceHelper
from tests.support import DROP, contract_errors

MODEL = "seedream-4-0-250828"
MODEL_45 = "seedream-4-5-251128"
KEY = "ark-test-key"
GENERATE = "/api/v3/images/generations"
ROUTE = "POST /api/v3/images/generations"


def body(**overrides: Any) -> dict[str, Any]:
    """A valid generation body (1K, so images render fast); `field=DROP` removes a field."""
    base: dict[str, Any] = {"model": MODEL, "prompt": "a paper boat on a puddle", "size": "1K"}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not DROP}


def auth(key: str | None = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key is not None else {}


def error_of(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    assert set(payload) == {"error"}, payload
    error: dict[str, Any] = payload["error"]
    assert set(error) == {"code", "message", "param", "type"}, error
    return error


def events(text: str) -> list[tuple[str | None, Any]]:
    """A stream's events as (event name, data): JSON data decoded, the terminator as the string "[DONE]"."""
    found: list[tuple[str | None, Any]] = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            field, _, value = line.partition(": ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        payload = "\n".join(data)
        found.append((name, payload if payload == "[DONE]" else json.loads(payload)))
    return found


@dataclass
class Ark(SurfaceHelper):
    """The emulator serving Ark at `prefix` ("/ark" with provider="all", "" with provider="ark")."""

    prefix: str = "/ark"

    async def post(self, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """A generation request sent as given (`json=` or `content=`), unchecked; with the test key unless `headers`."""
        return await self.client.post(self.path(GENERATE), headers=auth() if headers is None else headers, **kwargs)

    async def generate(self, payload: Any, key: str | None = KEY, *, failing: bool = False) -> httpx.Response:
        """A request whose reply must be images (200) or an error, in the contract, and never a 5xx unless the
        generation is made to fail (`failing`)."""
        response = await self.post(auth(key), json=payload)
        assert failing or response.status_code < 500, response.text
        if response.headers["content-type"].startswith("text/event-stream"):
            for _, data in events(response.text):
                assert data == "[DONE]" or contract_errors("ark", "streamEvent", data) == [], data
            return response
        schema = "images" if response.status_code == 200 else "error"
        assert contract_errors("ark", schema, response.json()) == []
        return response

    async def images(self, **overrides: Any) -> dict[str, Any]:
        """The reply of an accepted `body(**overrides)`."""
        response = await self.generate(body(**overrides))
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        return reply

    async def refused(self, payload: Any, status: int = 400) -> dict[str, Any]:
        response = await self.generate(payload, failing=status >= 500)
        assert response.status_code == status, response.text
        return error_of(response)

    def entries(self, route: str | None = None) -> list[Entry]:
        return self.runtime.journal.entries(surface="ark", route=route)

    async def record(self, url: str) -> dict[str, Any]:
        """The evidence record of the image downloaded from `url`."""
        response = await self.client.get(url)
        assert response.status_code == 200, url
        return read_metadata(response.content)


ArkFactory = Callable[..., Awaitable[Ark]]


@pytest.fixture
async def make_ark(make_emulator: EmulatorFactory) -> ArkFactory:
    async def factory(clock: Any = None, **settings: Any) -> Ark:
        prefix = "" if settings.get("provider") == "ark" else "/ark"
        return Ark(await make_emulator(clock=clock, **settings), prefix)

    return factory


@pytest.fixture
async def ark(make_ark: ArkFactory) -> Ark:
    return await make_ark()
