"""What every client does the same way, checked against the real emulator on all four surfaces."""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from clients import Canceled, GenerationFailed, Image, QuotaExceeded
from emulator import Settings, create_app, read_metadata
from tests.clients.support import SURFACES, Live, Surface

pytestmark = pytest.mark.parametrize("surface", SURFACES, ids=[surface.name for surface in SURFACES])

FAILURE_CODES = {
    "runware": "contentPolicyViolation",
    "wiro": "1",
    "evolink": "content_policy_violation",
    "replicate": None,
    "fal": "content_policy_violation",
}


def check_images(images: list[Image], surface: Surface, count: int) -> list[dict[str, Any]]:
    assert len(images) == count
    records: list[dict[str, Any]] = [read_metadata(image.content()) for image in images]
    assert {(r["provider"], r["width"], r["height"]) for r in records} == {(surface.name, 2048, 2048)}
    assert sorted(r["index"] for r in records) == list(range(count))
    assert all(image.provider == surface.name for image in images)
    return records


def test_generate_returns_every_image_with_only_valid_requests(live: Live, surface: Surface) -> None:
    with surface.client(live) as client:
        images = client.generate(surface.request(images=2))
    check_images(images, surface, 2)
    assert live.invalid(surface.name) == []


async def test_the_async_client_does_the_same(live: Live, surface: Surface) -> None:
    async with surface.async_client(live) as client:
        images = await client.generate(surface.request(images=2))
    check_images(images, surface, 2)
    assert live.invalid(surface.name) == []


def test_start_then_wait_is_generate_in_two_steps(live: Live, surface: Surface) -> None:
    with surface.client(live) as client:
        job_id = client.start(surface.request())
        assert isinstance(job_id, str) and job_id
        images = client.wait(job_id)
    check_images(images, surface, 1)
    assert job_id in live.journal(surface.name)[-1].ids


async def test_an_injected_asgi_transport_runs_the_emulator_in_process(surface: Surface) -> None:
    app = create_app(Settings(timing="instant", seed=3))
    options = surface.options(f"http://testserver/{surface.name}", transport=httpx.ASGITransport(app=app))
    async with surface.async_(surface.key, **options) as client:
        images = await client.generate(surface.request())
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            data = await images[0].acontent(http)
    assert read_metadata(data)["provider"] == surface.name
    await app.state.emulator.runtime.aclose()


def test_own_http_clients_are_closed_and_injected_ones_are_not(live: Live, surface: Surface) -> None:
    with surface.client(live) as client:
        own = client._http
    assert own.is_closed
    injected = httpx.Client()
    with surface.sync(surface.key, **surface.options(live.url(surface.name)), http=injected):
        pass
    assert not injected.is_closed
    injected.close()
    with pytest.raises(ValueError):
        surface.sync(
            surface.key, **surface.options(live.url(surface.name)), http=httpx.Client(), transport=httpx.HTTPTransport()
        )
    with pytest.raises(ValueError):
        surface.sync("", **surface.options(live.url(surface.name)))


def test_the_caller_s_request_is_never_modified(live: Live, surface: Surface) -> None:
    request = surface.request()
    snapshot = repr(request)
    with surface.client(live) as client:
        client.generate(request)
    assert repr(request) == snapshot


def test_a_failed_job_raises_generation_failed_with_the_provider_s_code(live: Live, surface: Surface) -> None:
    with surface.client(live) as client, pytest.raises(GenerationFailed) as caught:
        client.generate(surface.request("a harbour [[emulator:fail=content_policy]]"))
    error = caught.value
    assert error.provider == surface.name and error.code == FAILURE_CODES[surface.name] and error.job_id
    assert error.message


async def test_a_failed_job_raises_in_the_async_client_too(live: Live, surface: Surface) -> None:
    async with surface.async_client(live) as client:
        with pytest.raises(GenerationFailed) as caught:
            await client.generate(surface.request("a harbour [[emulator:fail=timeout]]"))
    assert caught.value.provider == surface.name


def test_fewer_images_than_asked_are_returned_once_the_job_is_over(live: Live, surface: Surface) -> None:
    with surface.client(live) as client:
        images = client.generate(surface.request("a quiet bay [[emulator:images=1]]", images=3))
    check_images(images, surface, 1)


def test_a_job_canceled_by_the_provider_raises_canceled(live: Live, surface: Surface) -> None:
    with surface.client(live) as client:
        job_id = client.start(surface.request("a tide [[emulator:stall=running]]"))
        [job] = live.jobs(surface.name)
        live.server.run(lambda: live.server.runtime.jobs.cancel(job["id"]))
        with pytest.raises(Canceled) as caught:
            client.wait(job_id)
    assert caught.value.job_id == job_id and caught.value.provider == surface.name


def test_no_credit_left_is_quota_exceeded(live: Live, surface: Surface) -> None:
    live.fault(action="error", surface=surface.name, status=402, times=1)
    with surface.client(live) as client, pytest.raises(QuotaExceeded) as caught:
        client.generate(surface.request())
    assert (caught.value.provider, caught.value.status) == (surface.name, 402) and caught.value.message


def test_the_longest_cjk_prompt_goes_through_unchanged(live: Live, surface: Surface) -> None:
    """2000 characters; EvoLink counts 2000 tokens, which its estimate puts at 1333 CJK characters."""
    prompt = ("海边的灯塔" * 400)[: 1333 if surface.name == "evolink" else 2000]
    with surface.client(live) as client:
        [image] = client.generate(surface.request(prompt))
    assert read_metadata(image.content())["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()
    assert live.invalid(surface.name) == []


def test_one_sync_client_serves_several_threads(live: Live, surface: Surface) -> None:
    with surface.client(live) as client, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda n: client.generate(surface.request(f"thread {n}")), range(4)))
    jobs = {read_metadata(images[0].content())["job_id"] for images in results}
    assert len(jobs) == 4 and live.invalid(surface.name) == []


async def test_one_async_client_serves_concurrent_tasks(live: Live, surface: Surface) -> None:
    async with surface.async_client(live) as client:
        results = await asyncio.gather(*(client.generate(surface.request(f"task {n}")) for n in range(4)))
    assert len({read_metadata(images[0].content())["job_id"] for images in results}) == 4
