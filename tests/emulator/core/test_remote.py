"""Reference URLs: loopback ones are read, internal ones are unreachable, public ones are not fetched offline."""

from __future__ import annotations

import httpx
import pytest

from emulator.core.remote import RemoteImages
from tests.support import image_bytes


def served(status: int = 200, body: bytes = b"") -> RemoteImages:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    return RemoteImages(httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("http://127.0.0.1:9000/ref.png", "fetched"),
        ("http://localhost/ref.png", "fetched"),
        ("http://127.1/ref.png", "fetched"),
        ("http://[::1]/ref.png", "fetched"),
        ("https://10.0.0.7/ref.png", "unreachable"),
        ("http://169.254.169.254/latest", "unreachable"),
        ("https://images.invalid/ref.png", "unreachable"),
        ("not a url", "unreachable"),
        ("https://cdn.example.com/ref.png", "offline"),
    ],
)
def test_what_can_be_reached(url: str, status: str) -> None:
    assert RemoteImages.reachable(url) == status


async def test_a_loopback_image_is_downloaded_and_warned_about() -> None:
    png = image_bytes(40, 30)
    fetched = await served(body=png).fetch("http://127.0.0.1:9/ref.png", max_bytes=1000)
    assert fetched.status == "fetched" and fetched.data == png and not fetched.too_large
    assert fetched.warning is not None and "cannot reach it" in fetched.warning


async def test_a_body_over_the_limit_is_cut_and_marked() -> None:
    fetched = await served(body=b"x" * 5000).fetch("http://127.0.0.1:9/big.png", max_bytes=100)
    assert fetched.too_large and fetched.data is not None and len(fetched.data) == 101


async def test_an_error_status_makes_the_url_unreachable() -> None:
    fetched = await served(status=404).fetch("http://127.0.0.1:9/missing.png", max_bytes=100)
    assert fetched.status == "unreachable" and "HTTP 404" in fetched.detail


async def test_a_refused_connection_makes_the_url_unreachable() -> None:
    fetched = await RemoteImages(timeout=2).fetch("http://127.0.0.1:9/closed.png", max_bytes=100)
    assert fetched.status == "unreachable" and fetched.data is None


async def test_public_hosts_are_taken_on_trust_with_a_warning() -> None:
    fetched = await served(body=b"never read").fetch("https://cdn.example.com/ref.png", max_bytes=100)
    assert fetched.status == "offline" and fetched.data is None
    assert fetched.warning is not None and "not downloaded" in fetched.warning
