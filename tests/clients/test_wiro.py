"""WiroClient against the emulator: signing, key-only projects, multipart inputs, cancel and kill, uploads."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import types
from pathlib import Path
from typing import Unpack

import pytest

from clients import AuthenticationError, Canceled, GenerationFailed, InvalidRequest, RateLimited
from clients.wiro import AsyncWiroClient, WiroClient, sign
from emulator import read_metadata
from tests.clients.support import (
    FAST,
    WIRO_KEY,
    WIRO_KEY_ONLY,
    WIRO_SECRET,
    AsyncRecording,
    Live,
    Recording,
    SyncOptions,
    fast,
    quick,
)
from tests.support import data_uri, image_bytes


def client(
    live: Live, key: str = WIRO_KEY, secret: str | None = WIRO_SECRET, **overrides: Unpack[SyncOptions]
) -> WiroClient:
    return quick(WiroClient(key, secret=secret, base_url=live.url("wiro") + "/v1", **fast(**overrides)))


def async_client(live: Live) -> AsyncWiroClient:
    return quick(AsyncWiroClient(WIRO_KEY, secret=WIRO_SECRET, base_url=live.url("wiro") + "/v1", **FAST))


def test_the_signature_matches_the_documented_test_vector() -> None:
    assert (
        sign("test-key", "test-secret", "1700000000")
        == "0e8b719d1c158c40c2b10415f96c09b794780274f5f9cbaa48d2e723ac07fc3c"
    )


def test_every_request_is_signed_with_a_fresh_nonce(live: Live) -> None:
    recording = Recording()
    with client(live, transport=recording) as wiro:
        images = wiro.generate({"prompt": "two posters", "size": "2304x1728", "maxImages": 2})
    assert [read_metadata(image.content())["width"] for image in images] == [2304, 2304]
    nonces = [exchange.headers["x-nonce"] for exchange in recording.exchanges]
    assert len(nonces) >= 2 and len(set(nonces)) == len(nonces)
    assert [int(nonce) for nonce in nonces] == sorted(int(nonce) for nonce in nonces)
    for exchange in recording.exchanges:
        assert exchange.headers["x-api-key"] == WIRO_KEY
        assert exchange.headers["x-signature"] == sign(WIRO_KEY, WIRO_SECRET, exchange.headers["x-nonce"])
    assert live.invalid("wiro") == []


def test_clients_in_parallel_threads_never_share_a_nonce(live: Live) -> None:
    recordings = [Recording() for _ in range(4)]

    def run(recording: Recording) -> None:
        with client(live, transport=recording) as wiro:
            wiro.generate({"prompt": "a buoy"})

    threads = [threading.Thread(target=run, args=(recording,)) for recording in recordings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    nonces = [exchange.headers["x-nonce"] for recording in recordings for exchange in recording.exchanges]
    assert len(nonces) >= 8 and len(set(nonces)) == len(nonces)


async def test_concurrent_async_generations_never_reuse_a_nonce(live: Live) -> None:
    """Wiro refuses a reused nonce (replay protection); the emulator does too by default, so none of these 401s."""
    recordings = [AsyncRecording() for _ in range(6)]

    async def run(recording: AsyncRecording) -> int:
        async with quick(
            AsyncWiroClient(
                WIRO_KEY, secret=WIRO_SECRET, base_url=live.url("wiro") + "/v1", transport=recording, **FAST
            )
        ) as wiro:
            return len(await wiro.generate({"prompt": "a buoy"}))

    assert await asyncio.gather(*(run(recording) for recording in recordings)) == [1] * 6
    nonces = [exchange.headers["x-nonce"] for recording in recordings for exchange in recording.exchanges]
    assert len(nonces) >= 12 and len(set(nonces)) == len(nonces)
    assert all(exchange.status != 401 for recording in recordings for exchange in recording.exchanges)
    assert all(not entry.warnings for entry in live.journal("wiro"))


def test_the_nonce_counter_is_unique_and_increasing_under_threads_and_a_still_or_backward_clock(monkeypatch) -> None:
    from clients import wiro as module

    nonces = module._Nonces()
    frozen = iter([1_700_000_000_000_000_000] * 2000 + [1_600_000_000_000_000_000] * 10_000)
    lock = threading.Lock()

    def time_ns() -> int:
        with lock:
            return next(frozen)

    monkeypatch.setattr(module, "time", types.SimpleNamespace(time_ns=time_ns))
    drawn: list[list[int]] = [[] for _ in range(8)]

    def draw(into: list[int]) -> None:
        for _ in range(500):
            into.append(int(nonces.next()))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [nonce for into in drawn for nonce in into]
    assert len(set(every)) == len(every) == 4000
    assert all(into == sorted(into) for into in drawn)
    assert min(every) == 1_700_000_000_000 and max(every) < 2**63


def test_a_retried_attempt_is_signed_with_a_new_nonce(live: Live) -> None:
    recording = Recording()
    live.fault(action="error", status=503, times=1, surface="wiro", route="POST /v1/Task/Detail")
    with client(live, transport=recording) as wiro:
        wiro.generate({"prompt": "a buoy"})
    details = recording.to("/Task/Detail")
    assert details[0].status == 503 and len(details) >= 2
    nonces = [exchange.headers["x-nonce"] for exchange in recording.exchanges]
    assert len(set(nonces)) == len(nonces)


def test_a_wrong_secret_or_key_is_authentication_error(live: Live) -> None:
    cases = [
        (WIRO_KEY, "not-the-secret", "Project authorization is not valid."),
        (WIRO_KEY, None, "Project requires signature authentication. x-signature and x-nonce headers are required."),
        ("unknown-key", WIRO_SECRET, "Project authorization is not founded."),
    ]
    for key, secret, message in cases:
        with client(live, key, secret) as wiro, pytest.raises(AuthenticationError) as caught:
            wiro.generate({"prompt": "a"})
        assert (caught.value.code, caught.value.status, caught.value.message) == (0, 401, message)


def test_a_key_only_project_needs_no_secret(live: Live) -> None:
    recording = Recording()
    with client(live, WIRO_KEY_ONLY, None, transport=recording) as wiro:
        assert len(wiro.generate({"prompt": "a"})) == 1
    assert all("x-signature" not in exchange.headers for exchange in recording.exchanges)


def test_validation_errors_in_a_200_reply_are_invalid_request(live: Live) -> None:
    with client(live) as wiro, pytest.raises(InvalidRequest) as caught:
        wiro.generate({"prompt": "a", "maxImages": 20})
    error = caught.value
    assert (error.code, error.status, error.message) == (
        0,
        200,
        "Request parameter [maxImages] must be between 1 and 15",
    )


def test_local_files_go_up_as_multipart_in_order_with_urls(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "ref.webp"
    path.write_bytes(image_bytes(fmt="WEBP"))
    recording = Recording()
    inputs = [image_bytes(), path, str(path), data_uri(fmt="JPEG"), "https://example.com/style.png"]
    with client(live, transport=recording) as wiro:
        [image] = wiro.generate({"prompt": "拼贴画 collage", "inputImage": inputs, "maxImages": 1, "watermark": False})
    record = read_metadata(image.content())
    assert record["reference_count"] == 5
    assert record["prompt_sha256"] == hashlib.sha256("拼贴画 collage".encode()).hexdigest()
    run = recording.exchanges[0]
    assert run.headers["content-type"].startswith("multipart/form-data")
    assert (
        run.request.index(b"image/png") < run.request.index(b"image/webp") < run.request.index(b"https://example.com")
    )
    assert b'name="watermark"\r\n\r\nfalse' in run.request
    assert live.invalid("wiro") == []


def test_an_input_that_is_neither_url_nor_file_is_refused_before_sending(live: Live) -> None:
    with client(live) as wiro, pytest.raises(InvalidRequest) as caught:
        wiro.generate({"prompt": "a", "inputImage": ["no/such/file.png"]})
    assert caught.value.status is None and "no/such/file.png" in caught.value.message
    assert live.journal("wiro") == []


def test_a_failed_task_carries_its_debugerror(live: Live) -> None:
    with client(live) as wiro, pytest.raises(GenerationFailed) as caught:
        wiro.generate({"prompt": "a [[emulator:fail=content_policy]]"})
    assert (
        caught.value.code == "1" and caught.value.message == "The generated content was blocked by the safety checker."
    )


@pytest.mark.parametrize(("stall", "action"), [("queued", "Cancel"), ("running", "Kill")])
def test_cancel_uses_cancel_for_queued_tasks_and_kill_for_running_ones(live: Live, stall: str, action: str) -> None:
    recording = Recording()
    with client(live, transport=recording) as wiro:
        job_id = wiro.start({"prompt": f"a [[emulator:stall={stall}]]"})
        assert wiro.cancel(job_id) is True
        with pytest.raises(Canceled) as caught:
            wiro.wait(job_id)
    assert caught.value.job_id == job_id
    assert [exchange.path.rsplit("/", 2)[-2:] for exchange in recording.exchanges[1:3]] == [
        ["Task", "Detail"],
        ["Task", action],
    ]


async def test_cancel_of_a_finished_task_is_false_and_sends_no_kill(live: Live) -> None:
    async with async_client(live) as wiro:
        job_id = await wiro.start({"prompt": "a"})
        await wiro.wait(job_id)
        assert await wiro.cancel(job_id) is False
    assert not any(entry.route.endswith(("Kill", "Cancel")) for entry in live.journal("wiro"))


async def test_an_upload_url_works_as_input_image(live: Live) -> None:
    async with async_client(live) as wiro:
        url = await wiro.upload(image_bytes(), filename="ref.png")
        [image] = await wiro.generate({"prompt": "a", "inputImage": [url]})
    assert url.startswith("http") and read_metadata(await image.acontent())["reference_count"] == 1


def test_the_concurrency_limit_code_96_is_retried_then_rate_limited(live: Live) -> None:
    live.limit("wiro", concurrency=1)
    with client(live, max_retries=1) as wiro:
        wiro.start({"prompt": "a [[emulator:stall=running]]"})
        start = time.monotonic()
        with pytest.raises(RateLimited) as caught:
            wiro.start({"prompt": "b"})
    assert time.monotonic() - start >= 1.0  # Retry-After: 1 honoured once
    assert (caught.value.code, caught.value.status, caught.value.retry_after) == (96, 200, 1.0)
    assert len(live.journal("wiro", "POST /v1/Run/{owner}/{model}")) == 3
