"""EvoLinkClient against the emulator: both error-code generations, references, failed tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import pytest

from clients import AuthenticationError, GenerationFailed, InvalidRequest
from clients.evolink import AsyncEvoLinkClient, EvoLinkClient
from contracts.counts import ask
from emulator import read_metadata
from tests.clients.support import FAST, Live, Recording, SyncOptions, fast, image_size
from tests.support import image_bytes

BAD_N = "Invalid request parameters: 'n' must be an integer between 1 and 15."


def client(live: Live, key: str = "test-key", **overrides: Unpack[SyncOptions]) -> EvoLinkClient:
    return EvoLinkClient(key, base_url=live.url("evolink"), **fast(**overrides))


def test_the_ratio_and_quality_pick_the_documented_size(live: Live) -> None:
    with client(live) as evolink:
        images = evolink.generate(
            {"model": "doubao-seedream-4.0", "prompt": ask("a lantern", 2), "size": "16:9", "quality": "1K", "n": 2}
        )
    assert [(read_metadata(image.content())["width"], image.id, image.seed) for image in images] == [
        (1280, None, None)
    ] * 2


def test_validation_errors_carry_evolink_s_integer_code(live: Live) -> None:
    with client(live) as evolink, pytest.raises(InvalidRequest) as caught:
        evolink.generate({"model": "doubao-seedream-4.0", "prompt": "a", "n": 20})
    error = caught.value
    assert (error.code, error.status, error.message) == (400, 400, BAD_N)
    assert error.body["error"]["param"] == "n"


async def test_and_the_newer_string_codes(other: Live) -> None:
    async with AsyncEvoLinkClient("good-key", base_url=other.url("evolink"), **FAST) as evolink:
        with pytest.raises(InvalidRequest) as caught:
            await evolink.generate({"model": "doubao-seedream-4.0", "prompt": "a", "n": 20})
    assert (caught.value.code, caught.value.message) == ("invalid_request", BAD_N)


def test_an_unknown_key_is_authentication_error(other: Live) -> None:
    with client(other, "bad-key") as evolink, pytest.raises(AuthenticationError) as caught:
        evolink.generate({"model": "doubao-seedream-4.0", "prompt": "a"})
    assert (caught.value.code, caught.value.status, caught.value.message) == (
        "unauthorized",
        401,
        "Invalid or expired token",
    )


def test_an_unknown_model_is_invalid_request(live: Live) -> None:
    with client(live) as evolink, pytest.raises(InvalidRequest) as caught:
        evolink.generate({"model": "doubao-seedream-9", "prompt": "a"})
    assert (caught.value.code, caught.value.status) == (404, 404)
    assert caught.value.message.startswith("Specified model not found")


def test_bytes_and_paths_in_image_urls_are_sent_as_data_uris(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "ref.png"
    path.write_bytes(image_bytes(64, 32))
    recording = Recording()
    with client(live, transport=recording) as evolink:
        [image] = evolink.generate({"model": "doubao-seedream-4.0", "prompt": "a", "image_urls": [path, image_bytes()]})
    record = read_metadata(image.content())
    width, height = image_size(image)
    assert record["reference_count"] == 2 and width > height  # size "auto" follows the 2:1 reference
    assert recording.exchanges[0].request.count(b"data:image/png;base64,") == 2
    assert live.invalid("evolink") == []


def test_a_reference_that_cannot_be_downloaded_fails_the_task(live: Live) -> None:
    with client(live) as evolink, pytest.raises(GenerationFailed) as caught:
        evolink.generate({"model": "doubao-seedream-4.0", "prompt": "a", "image_urls": ["https://gone.invalid/a.png"]})
    assert caught.value.code == "image_processing_error"
    assert caught.value.job_id is not None and caught.value.job_id.startswith("task-unified-")


def test_evolink_has_no_cancel_and_no_upload() -> None:
    for cls in (EvoLinkClient, AsyncEvoLinkClient):
        assert not hasattr(cls, "cancel") and not hasattr(cls, "upload")
