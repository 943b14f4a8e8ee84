"""Fixtures for the EvoLink surface: an in-process emulator with EvoLink-shaped calls that check every reply against
the contract, and valid create bodies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator import read_metadata
from emulator.core.clock import ManualClock
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.providers.evolink.models import EvoLinkService
from tests.conftest import EmulatorFactory, SurfaceHelper
from tests.support import DROP, contract_errors

MODEL = "doubao-seedream-4.0"
KEY = "evo-test-key"
CREATE = "/v1/images/generations"
CREATE_ROUTE = "POST /v1/images/generations"


def body(**overrides: Any) -> dict[str, Any]:
    """A valid create body; `field=DROP` removes a field."""
    base: dict[str, Any] = {"model": MODEL, "prompt": "a paper boat on a puddle"}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not DROP}


def auth(key: str | None = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key is not None else {}


def error_of(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    assert set(payload) == {"error"}, payload
    error: dict[str, Any] = payload["error"]
    return error


@dataclass
class EvoLink(SurfaceHelper):
    """The emulator serving EvoLink at `prefix` ("/evolink" with provider="all", "" with provider="evolink")."""

    prefix: str = "/evolink"

    @property
    def service(self) -> EvoLinkService:
        [surface] = [s for s in self.emulator.app.state.emulator.surfaces if s.name == "evolink"]
        service: EvoLinkService = surface.service
        return service

    async def post(self, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        """A create request sent as given (`json=` or `content=`), unchecked; with the test key unless `headers`."""
        return await self.client.post(self.path(CREATE), headers=auth() if headers is None else headers, **kwargs)

    async def create(self, payload: Any, key: str | None = KEY) -> httpx.Response:
        """A create request whose reply must be a task (200) or an error, in the contract, and never a 5xx."""
        response = await self.post(auth(key), json=payload)
        assert response.status_code < 500, response.text
        schema = "task" if response.status_code == 200 else "error"
        assert contract_errors("evolink", schema, response.json()) == []
        return response

    async def query(self, task_id: str, key: str | None = KEY) -> httpx.Response:
        """A task query whose reply must be a task (200) or an error, in the contract, and never a 5xx."""
        response = await self.client.get(self.path(f"/v1/tasks/{task_id}"), headers=auth(key))
        assert response.status_code < 500, response.text
        schema = "task" if response.status_code == 200 else "error"
        assert contract_errors("evolink", schema, response.json()) == []
        return response

    async def created(self, **overrides: Any) -> dict[str, Any]:
        """The create reply of an accepted `body(**overrides)`."""
        response = await self.create(body(**overrides))
        assert response.status_code == 200, response.json()
        task: dict[str, Any] = response.json()
        return task

    async def finished(self, **overrides: Any) -> dict[str, Any]:
        """Create with the instant timing of the default fixture and return the completed task."""
        task = await self.created(**overrides)
        reply: dict[str, Any] = (await self.query(task["id"])).json()
        assert reply["status"] == "completed", reply
        return reply

    def entries(self, route: str | None = None) -> list[Entry]:
        """The journal entries of EvoLink requests (of one route when given)."""
        return self.runtime.journal.entries(surface="evolink", route=route)

    def spec(self, url: str) -> GenerationSpec:
        """What a result URL's image was generated from."""
        artifact = self.runtime.artifacts.get(url.rsplit("/", 1)[1].split(".")[0])
        assert artifact is not None and artifact.spec is not None, url
        return artifact.spec

    async def record(self, url: str) -> dict[str, Any]:
        """The evidence record of the image downloaded from `url`."""
        return read_metadata((await self.client.get(url)).content)


EvoLinkFactory = Callable[..., Awaitable[EvoLink]]


@pytest.fixture
async def make_evolink(make_emulator: EmulatorFactory) -> EvoLinkFactory:
    async def factory(clock: ManualClock | None = None, **settings: Any) -> EvoLink:
        prefix = "" if settings.get("provider") == "evolink" else "/evolink"
        return EvoLink(await make_emulator(clock=clock, **settings), prefix)

    return factory


@pytest.fixture
async def evolink(make_evolink: EvoLinkFactory) -> EvoLink:
    return await make_evolink()


@pytest.fixture
async def clocked(make_evolink: EvoLinkFactory, clock: ManualClock) -> EvoLink:
    """EvoLink whose jobs take realistic time on a manual clock."""
    return await make_evolink(clock=clock, timing="realistic")


@pytest.fixture
async def strict(make_evolink: EvoLinkFactory) -> EvoLink:
    return await make_evolink(strict=True)
