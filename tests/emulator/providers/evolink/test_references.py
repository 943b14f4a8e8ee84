"""Reference images: the documented formats, dimensions and file size, checked where the emulator can see them."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from emulator import Settings, create_app
from tests.support import SyncClient

from .conftest import CREATE_ROUTE, EvoLink, auth, body, error_of

MAX_BYTES = 10 * 1024 * 1024
examples = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def encoded(width: int = 64, height: int = 48, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (30, 90, 200) if mode == "RGB" else 1).save(out, fmt)
    return out.getvalue()


def data_uri(data: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


def image_uri(width: int = 64, height: int = 48, fmt: str = "PNG", mode: str = "RGB") -> str:
    return data_uri(encoded(width, height, fmt, mode), f"image/{fmt.lower()}")


def within_limits(width: int, height: int) -> bool:
    return min(width, height) > 14 and width * height <= 6000 * 6000 and width * 16 >= height and height * 16 >= width


@pytest.fixture(scope="module")
def client() -> Iterator[SyncClient]:
    client = SyncClient(create_app(Settings(timing="instant", seed=3)))
    yield client
    client.close()


def answer(client: SyncClient, refs: list[str]) -> tuple[int, dict]:
    response = client.post("/evolink/v1/images/generations", json=body(image_urls=refs), headers=auth())
    assert response.status_code < 500
    return response.status_code, response.json()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"])
async def test_documented_formats_are_accepted(evolink: EvoLink, fmt: str) -> None:
    task = await evolink.finished(image_urls=[image_uri(fmt=fmt)])
    record = await evolink.record(task["results"][0])
    assert record["reference_count"] == 1


@pytest.mark.parametrize("fmt", ["ICO", "PPM", "PCX"])
async def test_other_formats_are_refused(evolink: EvoLink, fmt: str) -> None:
    response = await evolink.create(body(image_urls=[image_uri(32, 32), image_uri(32, 32, fmt)]))
    assert response.status_code == 400
    error = error_of(response)
    assert error["param"] == "image_urls"
    assert "image_urls[1]" in error["message"] and fmt in error["message"]


@pytest.mark.parametrize(
    "reference, detail",
    [
        ("data:image/png;base64,bm90IGFuIGltYWdl", "cannot be decoded"),
        ("data:image/png;base64,%%%", "invalid base64"),
        ("data:image/png,rawbytes", "base64"),
        ("data:", "malformed data URI"),
    ],
)
async def test_unreadable_data_uris_are_refused(evolink: EvoLink, reference: str, detail: str) -> None:
    error = error_of(await evolink.create(body(image_urls=[reference])))
    assert error["code"] == 400 and error["param"] == "image_urls"
    assert "image_urls[0]" in error["message"] and detail in error["message"]


@examples
@given(width=st.integers(10, 20), height=st.integers(10, 20))
def test_width_and_height_must_exceed_14_px(client: SyncClient, width: int, height: int) -> None:
    status, reply = answer(client, [image_uri(width, height)])
    assert status == (200 if within_limits(width, height) else 400), reply
    if status == 400:
        assert "greater than 14" in reply["error"]["message"]


@examples
@given(short=st.integers(15, 40), delta=st.integers(-2, 2), tall=st.booleans())
def test_aspect_ratio_is_within_one_sixteenth_and_sixteen(
    client: SyncClient, short: int, delta: int, tall: bool
) -> None:
    long = short * 16 + delta
    width, height = (short, long) if tall else (long, short)
    status, reply = answer(client, [image_uri(width, height, mode="L")])
    assert status == (200 if within_limits(width, height) else 400), reply
    if status == 400:
        assert "aspect ratio must be between 1/16 and 16" in reply["error"]["message"]


@pytest.mark.parametrize(
    "width, height", [(6000, 6000), (6000, 6001), (4500, 8000), (4500, 8001), (8000, 4500), (6001, 6000)]
)
def test_total_pixels_are_at_most_6000_by_6000(client: SyncClient, width: int, height: int) -> None:
    status, reply = answer(client, [image_uri(width, height, mode="1")])
    assert status == (200 if within_limits(width, height) else 400), reply
    if status == 400:
        assert "36000000" in reply["error"]["message"]


@pytest.mark.parametrize("extra", [-1, 0, 1, 4096])
def test_files_over_10_mb_are_413_image_file_too_large(client: SyncClient, extra: int) -> None:
    png = encoded(64, 64)
    padded = png + b"\0" * (MAX_BYTES + extra - len(png))  # bytes after IEND: still a valid PNG of that file size
    status, reply = answer(client, [image_uri(32, 32), data_uri(padded)])
    if extra <= 0:
        assert status == 200, reply
    else:
        assert status == 413
        error = reply["error"]
        assert (error["code"], error["type"], error["param"]) == (413, "request_too_large_error", "image_urls")
        assert error["message"].startswith("Image file too large: image_urls[1]")
        assert error["fallback_suggestion"] == "compress image to under 10MB"


async def test_generated_results_are_visible_references(evolink: EvoLink) -> None:
    first = await evolink.finished(size="21:9", quality="1K")
    second = await evolink.finished(size="auto", quality="2K", image_urls=[first["results"][0]])
    spec = evolink.spec(second["results"][0])
    assert (spec.width, spec.height) == (3136, 1344)


async def test_own_uploaded_files_are_checked(evolink: EvoLink) -> None:
    store = evolink.runtime.artifacts
    good = store.add_blob("good-upload", encoded(300, 200), "image/png", "png", 3600, width=300, height=200)
    tiny = store.add_blob("tiny-upload", encoded(12, 40), "image/png", "png", 3600, width=12, height=40)
    base = "http://testserver/files"
    assert (await evolink.create(body(image_urls=[f"{base}/{good.id}.png"]))).status_code == 200
    error = error_of(await evolink.create(body(image_urls=[f"{base}/{good.id}.png", f"{base}/{tiny.id}.png"])))
    assert "image_urls[1]" in error["message"] and "12x40" in error["message"]


async def test_files_of_another_host_are_not_looked_up(evolink: EvoLink) -> None:
    assert (
        await evolink.create(body(image_urls=["http://elsewhere.example/files/tiny-upload.png"]))
    ).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "https://assets.invalid/ref.png",
        "https://cdn.example.invalid./a.jpg",
        "http://testserver/files/never-existed.png",
    ],
)
async def test_references_that_cannot_be_downloaded_fail_the_task(evolink: EvoLink, url: str) -> None:
    task = await evolink.created(image_urls=[image_uri(), url])
    reply = (await evolink.query(task["id"])).json()
    assert reply["status"] == "failed"
    assert reply["error"] == {
        "code": "image_processing_error",
        "message": f"Failed to download the reference image {url}",
        "type": "task_error",
    }
    assert "results" not in reply and "usage" not in reply


def last_warnings(evolink: EvoLink) -> list[str]:
    return evolink.entries(CREATE_ROUTE)[-1].warnings


async def test_a_loopback_reference_is_downloaded_and_its_real_size_drives_auto(evolink: EvoLink) -> None:
    url = evolink.fixtures.url("tall.png", encoded(90, 160))
    task = await evolink.finished(size="auto", quality="1K", image_urls=[url])
    assert [request.url for request in evolink.fixtures.requests] == [url]
    spec = evolink.spec(task["results"][0])
    assert (spec.width, spec.height) == (720, 1280)  # 9:16 at 1K
    assert any("cannot reach it" in warning for warning in last_warnings(evolink))


async def test_a_loopback_reference_is_held_to_the_documented_limits(evolink: EvoLink) -> None:
    url = evolink.fixtures.url("thin.png", encoded(12, 40))
    response = await evolink.create(body(image_urls=[url]))
    assert response.status_code == 400 and "image_urls[0]" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8999/missing.png", "https://10.1.2.3/ref.png", "http://169.254.169.254/latest/x.png"]
)
async def test_a_reference_production_cannot_download_fails_the_task(evolink: EvoLink, url: str) -> None:
    task = await evolink.created(image_urls=[url])
    reply = (await evolink.query(task["id"])).json()
    assert reply["status"] == "failed" and reply["error"]["code"] == "image_processing_error"


async def test_a_public_reference_is_accepted_unchecked_with_a_warning(evolink: EvoLink) -> None:
    await evolink.finished(image_urls=["https://cdn.example.com/ref.png"])
    assert evolink.fixtures.requests == []
    assert any("not downloaded" in warning for warning in last_warnings(evolink))


async def test_a_data_uri_reference_is_served_with_a_warning(evolink: EvoLink) -> None:
    await evolink.finished(image_urls=[image_uri()])
    assert any("data URI" in warning for warning in last_warnings(evolink))


async def test_a_reference_fixture_on_the_emulator_is_read_without_warnings(evolink: EvoLink) -> None:
    task = await evolink.finished(
        size="auto", quality="1K", image_urls=["http://testserver/files/fixture-90x160-png.png"]
    )
    spec = evolink.spec(task["results"][0])
    assert (spec.width, spec.height) == (720, 1280)
    assert last_warnings(evolink) == []
