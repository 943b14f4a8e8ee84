"""ArkClient against the emulator: one synchronous request per generation, groups, base64, typed errors, timeouts."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import pytest

from clients import AuthenticationError, GenerationFailed, InvalidRequest, PollTimeout, ServerError
from clients.ark import ArkClient, AsyncArkClient
from contracts.counts import ask
from emulator import read_metadata
from tests.clients.support import FAST, Live, SyncOptions, fast
from tests.support import image_bytes

MODEL = "seedream-4-0-250828"
GROUP = {"sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 3}}


def client(live: Live, key: str = "test-key", **overrides: Unpack[SyncOptions]) -> ArkClient:
    return ArkClient(key, base_url=live.url("ark") + "/api/v3", **fast(**overrides))


def test_a_group_comes_back_in_one_request(live: Live) -> None:
    with client(live) as ark:
        images = ark.generate({"model": MODEL, "prompt": ask("a lantern", 3), "size": "1K", **GROUP})
    records = [read_metadata(image.content()) for image in images]
    assert [(record["index"], record["width"]) for record in records] == [(0, 1024), (1, 1024), (2, 1024)]
    assert all(image.provider == "ark" and image.url for image in images)
    assert [entry.route for entry in live.journal("ark")] == ["POST /api/v3/images/generations"]


async def test_base64_replies_carry_the_bytes(live: Live) -> None:
    async with AsyncArkClient("test-key", base_url=live.url("ark") + "/api/v3", **FAST) as ark:
        [image] = await ark.generate(
            {"model": MODEL, "prompt": "a teapot", "size": "1K", "response_format": "b64_json"}
        )
    assert image.url is None and image.data is not None and read_metadata(image.data)["height"] == 1024


def test_local_images_are_sent_as_data_uris(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "ref.png"
    path.write_bytes(image_bytes(90, 160))
    with client(live) as ark:
        [image] = ark.generate({"model": MODEL, "prompt": "the same cat", "size": "2K", "image": path})
        [second] = ark.generate({"model": MODEL, "prompt": "again", "size": "2K", "image": [image_bytes(160, 90)]})
    assert read_metadata(image.content())["width"] == 1440 and read_metadata(second.content())["width"] == 2560
    assert live.invalid("ark") == []


def test_a_refused_request_is_invalid_request_with_arks_code(live: Live) -> None:
    with client(live) as ark, pytest.raises(InvalidRequest) as caught:
        ark.generate({"model": "seedream-4-5-251128", "prompt": "a", "size": "1K"})
    assert (caught.value.code, caught.value.status) == ("InvalidParameter", 400)
    assert caught.value.body["error"]["param"] == "size"


def test_an_unknown_key_is_authentication_error(other: Live) -> None:
    with client(other, "bad-key") as ark, pytest.raises(AuthenticationError) as caught:
        ark.generate({"model": MODEL, "prompt": "a"})
    assert (caught.value.code, caught.value.status) == ("AuthenticationError", 401)


def test_a_content_failure_is_generation_failed(live: Live) -> None:
    with client(live) as ark, pytest.raises(GenerationFailed) as caught:
        ark.generate({"model": MODEL, "prompt": "a [[emulator:fail=content_policy]]", "size": "1K"})
    assert caught.value.code == "OutputImageSensitiveContentDetected"
    with client(live) as ark, pytest.raises(GenerationFailed) as in_group:
        ark.generate({"model": MODEL, "prompt": "a [[emulator:fail=content_policy]]", "size": "1K", **GROUP})
    assert in_group.value.code == "OutputImageSensitiveContentDetected" and in_group.value.job_id


def test_fewer_images_are_returned_as_they_are(live: Live) -> None:
    with client(live) as ark:
        images = ark.generate(
            {"model": MODEL, "prompt": ask("a kite", 3) + " [[emulator:images=2]]", "size": "1K", **GROUP}
        )
    assert len(images) == 2


def test_a_generation_longer_than_the_timeout_is_poll_timeout(live: Live) -> None:
    with client(live, timeout=1.5) as ark, pytest.raises(PollTimeout):
        ark.generate({"model": MODEL, "prompt": "a [[emulator:stall=running]]", "size": "1K"})
    assert len(live.jobs("ark")) == 1, "the request was not sent again"


def test_a_5xx_on_the_generation_is_not_retried(live: Live) -> None:
    live.fault(action="error", status=500, times=1, surface="ark")
    with client(live) as ark, pytest.raises(ServerError) as caught:
        ark.generate({"model": MODEL, "prompt": "a", "size": "1K"})
    assert caught.value.code == "InternalServiceError" and len(live.journal("ark")) == 1


def test_a_429_is_retried_after_its_retry_after(live: Live) -> None:
    live.fault(action="error", status=429, retry_after=1, times=1, surface="ark")
    with client(live) as ark:
        assert len(ark.generate({"model": MODEL, "prompt": "a", "size": "1K"})) == 1
    first, second = live.journal("ark")
    assert first.status == 429 and second.status == 200 and second.at - first.at >= 1


def test_streaming_is_refused_before_sending(live: Live) -> None:
    with client(live) as ark, pytest.raises(ValueError):
        ark.generate({"model": MODEL, "prompt": "a", "stream": True})
    assert live.journal("ark") == []
