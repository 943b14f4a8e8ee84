"""A web page cannot drive the control plane; local tools can, and a token protects shared machines.

Reliability audit: a cross-origin `text/plain` POST /_emulator/reset with `Host: evil.example` deleted every job."""

from __future__ import annotations

import httpx
import pytest

from emulator import Settings, create_app
from tests.support import inference


async def client_for(**settings: object) -> httpx.AsyncClient:
    app = create_app(Settings(timing="instant", seed=1, **settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000")


async def job_count(client: httpx.AsyncClient) -> int:
    return len((await client.get("/_emulator/jobs")).json()["jobs"])


async def test_the_audits_cross_origin_reset_is_refused_and_deletes_nothing() -> None:
    async with await client_for() as client:
        await client.post("/runware/v1", json=[inference()], headers={"Authorization": "Bearer k"})
        attack = await client.post(
            "/_emulator/reset",
            content=b"x",
            headers={"Content-Type": "text/plain", "Origin": "http://evil.example", "Host": "evil.example"},
        )
        assert attack.status_code == 403
        assert await job_count(client) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({"Host": "evil.example"}, 403),
        ({"Host": "rebound.example:8000", "Origin": "http://rebound.example:8000"}, 403),
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Origin": "http://localhost:3000"}, 200),
        ({"Origin": "http://127.0.0.1:5173", "Host": "[::1]:8000"}, 200),
        ({"Content-Type": "application/json"}, 200),
        ({}, 200),
    ],
)
async def test_each_browser_trait_is_checked(headers: dict[str, str], status: int) -> None:
    async with await client_for() as client:
        assert (await client.post("/_emulator/reset", headers=headers)).status_code == status


async def test_reads_from_another_host_name_are_refused_too() -> None:
    """DNS rebinding reads as well as writes: the journal holds prompts and masked keys."""
    async with await client_for() as client:
        assert (await client.get("/_emulator/journal", headers={"Host": "evil.example"})).status_code == 403


async def test_named_hosts_and_the_public_url_are_answered() -> None:
    async with await client_for(control_hosts=("emulator",), public_url="https://seedream.test:9443") as client:
        assert (await client.get("/_emulator/health", headers={"Host": "emulator:8000"})).status_code == 200
        assert (await client.get("/_emulator/health", headers={"Host": "seedream.test:9443"})).status_code == 200


async def test_a_control_token_is_required_on_every_request_when_set() -> None:
    async with await client_for(control_token="s3cret") as client:
        assert (await client.get("/_emulator/health")).status_code == 401
        assert (await client.get("/_emulator/health", headers={"Authorization": "Bearer wrong"})).status_code == 401
        granted = {"Authorization": "Bearer s3cret", "Host": "emulator.internal"}
        assert (await client.post("/_emulator/reset", headers=granted)).status_code == 200


async def test_provider_surfaces_are_not_affected() -> None:
    async with await client_for() as client:
        response = await client.post(
            "/runware/v1", json=[inference()], headers={"Authorization": "Bearer k", "Origin": "http://evil.example"}
        )
        assert response.status_code == 200
