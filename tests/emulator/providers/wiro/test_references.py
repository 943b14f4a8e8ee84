"""`inputImage` entries are real inputs: files are read, the emulator's own URLs come from its store, loopback URLs
are downloaded and checked, internal or failing ones fail the task as Wiro's preprocessing would, public ones are
taken on trust with a journal warning."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import read_metadata
from tests.support import image_bytes

from .conftest import Wiro

PNG = image_bytes(48, 32)


def serve(wiro: Wiro, files: dict[str, bytes]) -> list[httpx.Request]:
    """Loopback URLs answered with `files` (by path, any other path 404); returns the downloads, as they happen."""
    wiro.emulator.fixtures.files.update(files)
    return wiro.emulator.fixtures.requests


def paths(requests: list[httpx.Request]) -> list[str]:
    return [request.url.path for request in requests]


async def succeeded(wiro: Wiro, taskid: str) -> dict:
    task = await wiro.finished(taskid)
    assert (task["status"], task["pexit"]) == ("task_postprocess_end", "0"), task
    return task


def run_entry(wiro: Wiro):
    [entry] = wiro.runtime.journal.entries(surface="wiro", route="POST /v1/Run/{owner}/{model}")
    return entry


async def test_uploaded_files_are_read_and_leave_no_warning(wiro: Wiro) -> None:
    files = [("inputImage", ("a.png", PNG, "image/png")), ("prompt", (None, "x"))]
    response = await wiro.run(files=files)
    task = await succeeded(wiro, response.json()["taskid"])
    assert run_entry(wiro).warnings == []
    image = await wiro.client.get(task["outputs"][0]["url"])
    assert read_metadata(image.content)["reference_count"] == 1


async def test_a_file_upload_url_is_read_from_the_store_without_a_warning(wiro: Wiro) -> None:
    uploaded = await wiro.post("/File/Upload", files={"file": ("ref.png", PNG, "image/png")})
    url = uploaded.json()["list"][0]["url"]
    asked = serve(wiro, {})
    reply = await wiro.create(prompt="x", inputImage=[url])
    await succeeded(wiro, reply["taskid"])
    assert asked == [] and run_entry(wiro).warnings == []


async def test_a_loopback_image_is_downloaded_checked_and_warned_about(wiro: Wiro) -> None:
    asked = serve(wiro, {"/ref.png": PNG})
    reply = await wiro.create(prompt="x", inputImage=["http://127.0.0.1:8123/ref.png"])
    await succeeded(wiro, reply["taskid"])
    assert paths(asked) == ["/ref.png"]
    [warning] = run_entry(wiro).warnings
    assert warning.startswith("inputImage[0] http://127.0.0.1:8123/ref.png is on this machine")
    assert "Wiro's servers cannot reach it" in warning


async def test_a_loopback_file_that_is_no_image_fails_the_task(wiro: Wiro) -> None:
    serve(wiro, {"/notes.txt": b"hello"})
    reply = await wiro.create(prompt="x", inputImage=["https://example.com/a.png", "http://localhost:9/notes.txt"])
    task = await wiro.failed(reply["taskid"])
    assert task["debugerror"].startswith("inputImage[1] http://localhost:9/notes.txt is not a JPEG, PNG or WEBP image")
    frames = [frame["type"] for frame in wiro.stored(reply["taskid"]).frames]
    assert "task_output" not in frames and frames[-1] == "task_postprocess_end"
    assert [f["message"] for f in wiro.stored(reply["taskid"]).frames if f["type"] == "task_error"] == [
        task["debugerror"]
    ]


async def test_a_loopback_image_over_the_file_limit_fails_the_task(wiro: Wiro, monkeypatch) -> None:
    from contracts.wiro import rules

    monkeypatch.setattr(rules, "UPLOAD_MAX_BYTES", 100)
    serve(wiro, {"/big.png": PNG})
    reply = await wiro.create(prompt="x", inputImage=["http://[::1]:9/big.png"])
    task = await wiro.failed(reply["taskid"])
    assert (
        task["debugerror"]
        == "inputImage[0] http://[::1]:9/big.png is larger than 100 bytes, the most Wiro accepts for a file"
    )


async def test_a_loopback_url_that_answers_an_error_fails_the_task(wiro: Wiro) -> None:
    serve(wiro, {})
    reply = await wiro.create(prompt="x", inputImage=["http://127.0.0.1:9/missing.png"])
    task = await wiro.failed(reply["taskid"])
    assert task["debugerror"].startswith("inputImage[0] could not be downloaded:") and "HTTP 404" in task["debugerror"]
    assert task["parameters"]["inputImage"] == "http://127.0.0.1:9/missing.png"


def _spell(address: ipaddress.IPv4Address, style: int) -> str:
    value = int(address)
    return [str(address), str(value), hex(value), f"[::ffff:{address}]"][style]


internal = st.one_of(
    st.builds(_spell, st.integers(0x0A000000, 0x0AFFFFFF).map(ipaddress.IPv4Address), st.integers(0, 3)),
    st.builds(_spell, st.integers(0xC0A80000, 0xC0A8FFFF).map(ipaddress.IPv4Address), st.integers(0, 3)),
    st.builds(_spell, st.integers(0xA9FE0000, 0xA9FEFFFF).map(ipaddress.IPv4Address), st.integers(0, 3)),
    st.sampled_from(["metadata.google.internal", "images.invalid", "[fd00::1]"]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=internal)
async def test_internal_and_reserved_hosts_fail_the_task_without_a_download(make_wiro, host: str) -> None:
    wiro = await make_wiro()
    asked = serve(wiro, {})
    reply = await wiro.create(prompt="x", inputImage=[f"https://{host}/ref.png"])
    task = await wiro.failed(reply["taskid"])
    assert task["debugerror"].startswith("inputImage[0] could not be downloaded:"), task["debugerror"]
    assert asked == [] and run_entry(wiro).warnings == []


async def test_a_public_url_is_taken_on_trust_with_a_warning(wiro: Wiro) -> None:
    asked = serve(wiro, {})
    reply = await wiro.create(
        prompt="x", inputImage=["https://cdn.example.com/ref.png", "https://cdn.example.com/b.png"]
    )
    await succeeded(wiro, reply["taskid"])
    assert asked == []
    warnings = run_entry(wiro).warnings
    assert [w.split(" ")[0] for w in warnings] == ["inputImage[0]", "inputImage[1]"]
    assert all("was not downloaded (the emulator is offline)" in w and "fails the task" in w for w in warnings)


@pytest.mark.parametrize("field", ["inputImage", "inputImageUrl"])
async def test_the_n8n_alias_is_checked_the_same_way(wiro: Wiro, field: str) -> None:
    serve(wiro, {})
    reply = await wiro.create(**{"prompt": "x", field: "http://127.0.0.1:9/missing.png"})
    await wiro.failed(reply["taskid"])
