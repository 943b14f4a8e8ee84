"""Image: inline bytes, or one GET of its URL; typed errors when the URL does not serve it."""

from __future__ import annotations

import httpx
import pytest

from clients import ConnectionFailed, DownloadFailed, Image
from clients.evolink import EvoLinkClient
from emulator import read_metadata
from tests.clients.support import FAST, Live
from tests.sdk.live import free_port


def test_inline_data_needs_no_request() -> None:
    image = Image(url=None, data=b"bytes")
    assert image.content() == b"bytes"
    assert "5 bytes" in repr(image) and "bytes'" not in repr(image)


def url_image(live: Live) -> Image:
    with EvoLinkClient("k", base_url=live.url("evolink"), **FAST) as client:
        [image] = client.generate({"model": "doubao-seedream-4.0", "prompt": "a kite"})
    return image


def test_a_url_is_fetched_with_or_without_a_client(live: Live) -> None:
    image = url_image(live)
    assert image.data is None and image.url is not None
    with httpx.Client() as http:
        assert image.content(http) == image.content()
    assert read_metadata(image.content())["provider"] == "evolink"


async def test_acontent_fetches_the_same_bytes(live: Live) -> None:
    image = url_image(live)
    async with httpx.AsyncClient() as http:
        assert await image.acontent(http) == await image.acontent() == image.content()


def test_a_missing_file_is_download_failed(live: Live) -> None:
    image = Image(url=live.url("evolink").rsplit("/", 1)[0] + "/files/nothing.jpg", data=None, provider="evolink")
    with pytest.raises(DownloadFailed) as caught:
        image.content()
    assert caught.value.status == 404 and caught.value.provider == "evolink"
    with pytest.raises(DownloadFailed):
        Image(url=None, data=None).content()


async def test_an_unreachable_host_is_connection_failed() -> None:
    image = Image(url=f"http://127.0.0.1:{free_port()}/files/x.jpg", data=None, provider="wiro")
    with pytest.raises(ConnectionFailed):
        await image.acontent()
