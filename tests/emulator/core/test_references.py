"""Reference values are found one way for every surface: data URIs, the emulator's own files, and URLs."""

from __future__ import annotations

import httpx
import pytest

from emulator.core import images
from emulator.core.artifacts import ArtifactStore
from emulator.core.clock import ManualClock
from emulator.core.references import References
from emulator.core.remote import RemoteImages
from emulator.core.render import GenerationSpec
from tests.support import data_uri, image_bytes

BASE = "http://127.0.0.1:8000"


def reader(body: bytes = b"", status: int = 200) -> References:
    remote = RemoteImages(httpx.MockTransport(lambda request: httpx.Response(status, content=body)))
    return References(ArtifactStore(ManualClock()), remote)


async def test_a_data_uri_is_decoded_and_marked_when_too_large() -> None:
    png = image_bytes(30, 20)
    inline = data_uri(30, 20)
    source = await reader().read(inline, BASE, max_bytes=len(png))
    assert (source.kind, source.data, source.too_large) == ("inline", png, False)
    assert (await reader().read(inline, BASE, max_bytes=len(png) - 1)).too_large


async def test_the_emulators_own_files_are_read_from_the_store() -> None:
    references = reader()
    spec = GenerationSpec.create(
        prompt="p", provider="t", model="m", job_id="j", index=0, seed=0, width=64, height=32,
        format="png", quality=90, reference_count=0,
    )  # fmt: skip
    references.artifacts.add_generated("a1", spec, 60)
    source = await references.read(f"{BASE}/files/a1.png", BASE, max_bytes=10)
    assert (source.kind, source.size, source.format, source.warning) == ("stored", (64, 32), "png", None)
    gone = await references.read(f"{BASE}/files/never.png", BASE, max_bytes=10)
    assert gone.kind == "unreachable" and not gone.reachable


async def test_a_fixture_on_the_emulator_is_stored_with_its_bytes() -> None:
    source = await reader().read(f"{BASE}/files/fixture-40x20-webp.webp", BASE, max_bytes=10**6)
    info = await reader().inspect(source, ("webp",))
    assert source.kind == "stored" and info is not None and (info.width, info.height) == (40, 20)


async def test_urls_follow_the_remote_rules() -> None:
    png = image_bytes(8, 8)
    downloaded = await reader(png).read("http://localhost:9/ref.png", BASE, max_bytes=10**6)
    assert downloaded.kind == "downloaded" and downloaded.data == png and downloaded.warning
    public = await reader().read("https://cdn.example.com/ref.png", BASE, max_bytes=10)
    assert public.kind == "remote" and public.data is None and public.warning
    internal = await reader().read("https://10.0.0.8/ref.png", BASE, max_bytes=10)
    assert internal.kind == "unreachable"


@pytest.mark.parametrize("value", ["not a url", "https://[::1/x.png", "data:image/png,raw"])
async def test_what_is_neither_a_url_nor_a_data_uri_is_broken(value: str) -> None:
    with pytest.raises(images.BrokenImage):
        await reader().read(value, BASE, max_bytes=10)
