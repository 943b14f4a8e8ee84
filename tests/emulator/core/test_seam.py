"""The seam every surface shares: errors become the surface's replies, bugs look like the surface, bodies are
bounded, admission applies fault rules and limits, and each request lands in the journal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response

from emulator.core.faults import Context, Rule
from emulator.core.jobs import Overloaded
from emulator.core.runtime import Runtime
from emulator.core.seam import Call, Seam, json_reply, retry_after


class ToyError(Exception):
    def __init__(self, code: str, status: int = 400, retry: float | None = None) -> None:
        super().__init__(code)
        self.code, self.status, self.retry = code, status, retry
        self.violations: list[Any] = []


class ToyErrors:
    kind = ToyError

    def reply(self, error: ToyError) -> Response:
        headers = {"Retry-After": retry_after(error.retry)} if error.retry is not None else None
        return json_reply({"toy_error": error.code}, error.status, headers)

    def internal(self, route: str) -> ToyError:
        return ToyError(f"internal:{route}", 500)

    def not_found(self, method: str, path: str) -> ToyError:
        return ToyError(f"nothing at {method} {path}", 404)

    def body_too_large(self, limit: int) -> ToyError:
        return ToyError(f"over {limit}", 413)

    def malformed(self, detail: str) -> ToyError:
        return ToyError("malformed")

    def injected(self, rule: Rule) -> ToyError:
        return ToyError("injected", rule.status or 500)

    def limited(self, refusal: Overloaded) -> ToyError:
        return ToyError("limited", 429, refusal.retry_after)


@pytest.fixture
async def toy() -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    runtime = Runtime.create(seed=1, timing="instant")
    seam = Seam("toy", runtime, ToyErrors(), max_body=100)

    async def echo(call: Call) -> Response:
        body = await call.json()
        await call.admit(Context("toy", "POST /echo"))
        return json_reply({"echo": body})

    async def broken(call: Call) -> Response:
        raise RuntimeError("boom")

    async def refused(call: Call) -> Response:
        raise ToyError("refused", 422)

    app = Starlette(
        routes=[
            seam.route("/echo", "POST /echo", echo),
            seam.route("/broken", "GET /broken", broken),
            seam.route("/refused", "GET /refused", refused),
            seam.fallback(),
        ]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy") as client:
        yield client, runtime
    await runtime.aclose()


async def test_a_handler_answers_and_provider_errors_become_the_surfaces_reply(toy: Any) -> None:
    client, _ = toy
    assert (await client.post("/echo", json=[1])).json() == {"echo": [1]}
    refused = await client.get("/refused")
    assert (refused.status_code, refused.json()) == (422, {"toy_error": "refused"})


async def test_a_bug_is_the_surfaces_internal_error(toy: Any) -> None:
    client, _ = toy
    response = await client.get("/broken")
    assert (response.status_code, response.json()) == (500, {"toy_error": "internal:GET /broken"})


async def test_bodies_are_bounded_and_must_be_json(toy: Any) -> None:
    client, _ = toy
    assert (await client.post("/echo", content=b"[" + b"1," * 60 + b"1]")).json() == {"toy_error": "over 100"}
    assert (await client.post("/echo", content=b"{nope")).json() == {"toy_error": "malformed"}


async def test_admission_applies_fault_rules_and_limits(toy: Any) -> None:
    client, runtime = toy
    runtime.faults.add({"action": "error", "status": 503, "times": 1})
    injected = await client.post("/echo", json=1)
    assert (injected.status_code, injected.json()) == (503, {"toy_error": "injected"})
    assert (await client.post("/echo", json=1)).status_code == 200


async def test_any_other_path_is_the_surfaces_not_found(toy: Any) -> None:
    client, _ = toy
    response = await client.delete("/elsewhere")
    assert (response.status_code, response.json()) == (404, {"toy_error": "nothing at DELETE /elsewhere"})


def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one() -> None:
    assert [retry_after(value) for value in (0, 0.2, 1, 1.01, 59.5)] == ["1", "1", "1", "2", "60"]


async def test_a_route_that_carries_files_reads_more_than_the_seam_allows() -> None:
    runtime = Runtime.create(seed=1, timing="instant")
    seam = Seam("toy", runtime, ToyErrors(), max_body=10)

    async def size(call: Call) -> Response:
        return json_reply(len(await call.body()))

    app = Starlette(
        routes=[seam.route("/small", "POST /small", size), seam.route("/big", "POST /big", size, max_body=100)]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy") as client:
        assert (await client.post("/small", content=b"x" * 50)).json() == {"toy_error": "over 10"}
        assert (await client.post("/big", content=b"x" * 50)).json() == 50
    await runtime.aclose()


async def test_a_body_that_stops_arriving_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core import http

    monkeypatch.setattr(http, "BODY_IDLE_TIMEOUT", 0.1)
    runtime = Runtime.create(seed=1, timing="instant")
    seam = Seam("toy", runtime, ToyErrors(), max_body=100)

    async def size(call: Call) -> Response:
        return json_reply(len(await call.body()))

    app = Starlette(routes=[seam.route("/x", "POST /x", size)])

    async def stalled() -> Any:
        yield b"a"
        await asyncio.sleep(5)
        yield b"b"

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://toy") as client:
        response = await asyncio.wait_for(client.post("/x", content=stalled()), 3)
    assert response.json() == {"toy_error": "malformed"}
    await runtime.aclose()
