"""image_input: data URIs, the emulator's own files and outputs, other hosts, broken images."""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.replicate import rules
from tests.support import contract_errors, data_uri, image_bytes

from .conftest import AUTH, Replicate, ReplicateFactory, metadata


async def test_uploaded_files_are_resolved_and_decoded(replicate: Replicate) -> None:
    file = await replicate.uploaded(image_bytes(1600, 900))
    body = await replicate.run({"size": "2K", "image_input": [file["urls"]["get"]]})
    assert body["status"] == "succeeded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"], record["reference_count"]) == (2560, 1440, 1)


async def test_download_urls_of_files_work_too(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(provider="all")
    file = await replicate.uploaded(image_bytes(900, 1600))
    body = await replicate.run({"size": "1K", "image_input": [file["urls"]["get"] + "/download?expiry=1&signature=x"]})
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == (736, 1312)


async def test_earlier_outputs_can_be_inputs(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(replicate_file_output="url")
    first = await replicate.run({"size": "1K", "aspect_ratio": "21:9"})
    [url] = first["output"]
    assert url.startswith("http://testserver/files/tmp")
    second = await replicate.run({"size": "2K", "image_input": [url]})
    assert second["status"] == "succeeded"
    download = await replicate.client.get(second["output"][0])
    assert download.status_code == 200 and download.headers["content-type"] == "image/jpeg"
    from emulator import read_metadata

    record = read_metadata(download.content)
    assert (record["width"], record["height"]) == (3024, 1296)


async def test_the_emulator_s_reference_fixtures_are_read_without_a_warning(replicate: Replicate) -> None:
    body = await replicate.run({"size": "2K", "image_input": ["http://testserver/files/fixture-900x1600-png.png"]})
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == (1440, 2560)
    [entry] = replicate.entries()
    assert entry.warnings == []


async def test_images_on_public_hosts_are_taken_on_trust_with_a_warning(replicate: Replicate) -> None:
    url = "https://replicate.delivery/xezq/abc/tmp7cvbut6o.jpg"
    body = await replicate.run({"size": "1K", "image_input": [url]})
    assert body["status"] == "succeeded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"], record["reference_count"]) == (1024, 1024, 1), (
        "size unknown offline: 1:1"
    )
    [entry] = replicate.entries()
    offline = f"reference image {url} was not downloaded (the emulator is offline)"
    assert entry.warnings == [f"image_input[0]: {offline}: its size and format are unchecked"]
    assert any("match_input_image fell back to 1:1" in note for note in entry.notes)
    assert replicate.emulator.fixtures.requests == [], "nothing leaves the machine"


async def test_loopback_images_are_downloaded_and_their_size_drives_match_input_image(replicate: Replicate) -> None:
    fixtures = replicate.emulator.fixtures
    url = fixtures.url("portrait.png", image_bytes(900, 1600))
    body = await replicate.run({"size": "2K", "image_input": [url]})
    assert body["status"] == "succeeded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"], record["reference_count"]) == (1440, 2560, 1)
    assert [str(request.url) for request in fixtures.requests] == [url]
    [entry] = replicate.entries()
    assert entry.warnings == [
        f"image_input[0]: reference image {url} is on this machine: read here, but the real provider cannot reach it"
    ]


LOOPBACK_HOSTS = st.sampled_from(
    ["127.0.0.1", "127.1", "127.0.0.2", "2130706433", "0x7f000001", "[::1]", "localhost", "[::ffff:127.0.0.1]"]
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=LOOPBACK_HOSTS, size=st.tuples(st.integers(8, 400), st.integers(8, 400)))
async def test_loopback_urls_are_read_however_spelled(
    make_replicate: ReplicateFactory, host: str, size: tuple[int, int]
) -> None:
    replicate = await make_replicate()
    replicate.emulator.fixtures.files["/ref.png"] = image_bytes(*size)
    body = await replicate.run({"size": "1K", "image_input": [f"http://{host}:8999/ref.png"]})
    assert body["status"] == "succeeded", body["error"]
    assert len(replicate.emulator.fixtures.requests) == 1, "downloaded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == tuple(rules.output_size({"size": "1K"}, size))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    url=st.sampled_from(
        [
            "http://10.0.0.5/a.png",
            "https://192.168.1.20/a.png",
            "http://169.254.169.254/latest/meta-data",
            "https://metadata.google.internal/a.png",
            "http://0xa9fea9fe/a.png",
            "https://[fd00::1]/a.png",
            "https://images.invalid/a.png",
            "http://printer.local/a.png",
        ]
    )
)
async def test_internal_and_unreachable_hosts_fail_the_prediction(make_replicate: ReplicateFactory, url: str) -> None:
    replicate = await make_replicate()
    response = await replicate.create({"image_input": [data_uri(), url]}, prefer="wait")
    assert response.status_code == 201, "accepted, then the model cannot load it, as on Replicate"
    body = response.json()
    assert body["status"] == "failed" and body["output"] is None
    assert body["error"].startswith("Failed to load image_input[1]: ") and url in body["error"]
    assert replicate.emulator.fixtures.requests == [], "internal addresses are never contacted"
    assert contract_errors("replicate", "prediction", body) == []


async def test_loopback_downloads_that_fail_fail_the_prediction(replicate: Replicate) -> None:
    missing = f"{replicate.emulator.fixtures.base}/missing.png"
    body = (await replicate.create({"image_input": [missing]}, prefer="wait")).json()
    assert body["status"] == "failed"
    assert body["error"] == f"Failed to load image_input[0]: downloading {missing} answered HTTP 404"


async def test_loopback_files_that_are_not_images_fail_the_prediction(replicate: Replicate) -> None:
    url = replicate.emulator.fixtures.url("notes.txt", b"hello")
    body = (await replicate.create({"image_input": [url]}, prefer="wait")).json()
    assert body["status"] == "failed" and body["error"].startswith("Failed to load image_input[0]: the image cannot")


async def test_loopback_downloads_above_the_files_limit_fail_the_prediction(
    replicate: Replicate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rules.RULES["imageInput"], "maxBytes", 1000)
    url = replicate.emulator.fixtures.url("big.png", _noise_png(64, 64))
    body = (await replicate.create({"image_input": [url]}, prefer="wait")).json()
    assert body["status"] == "failed" and body["error"].endswith("is larger than 1,000 bytes")
    small = replicate.emulator.fixtures.url("small.png", image_bytes(8, 8))
    assert (await replicate.create({"image_input": [small]}, prefer="wait")).json()["status"] == "succeeded"


async def test_references_outside_bytedance_limits_leave_notes_not_failures(replicate: Replicate) -> None:
    wide = replicate.emulator.fixtures.url("wide.webp", image_bytes(400, 100, "WEBP"))
    body = await replicate.run({"size": "1K", "image_input": [wide]})
    assert body["status"] == "succeeded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"]) == (1568, 672), "21:9 is the nearest ratio to 4:1"
    [entry] = replicate.entries()
    notes = " ".join(entry.notes)
    assert "image_input[0] is 400x100" in notes and "image_input[0] is WEBP" in notes
    assert len(entry.warnings) == 1, "only the loopback download is leniency"


async def test_broken_data_uri_fails_the_prediction(replicate: Replicate) -> None:
    bad = "data:image/png;base64," + base64.b64encode(b"not an image").decode()
    body = (await replicate.create({"image_input": [data_uri(), bad]}, prefer="wait")).json()
    assert body["status"] == "failed"
    assert body["error"].startswith("Failed to load image_input[1]: the image cannot be decoded")


async def test_non_base64_data_uri_fails_the_prediction(replicate: Replicate) -> None:
    body = (await replicate.create({"image_input": ["data:image/png,rawtext"]}, prefer="wait")).json()
    assert body["status"] == "failed" and "base64" in body["error"]


async def test_deleted_files_fail_the_prediction(replicate: Replicate) -> None:
    file = await replicate.uploaded(image_bytes())
    assert (await replicate.client.delete(replicate.path(f"/v1/files/{file['id']}"), headers=AUTH)).status_code == 204
    body = (await replicate.create({"image_input": [file["urls"]["get"]]}, prefer="wait")).json()
    assert body["status"] == "failed"
    assert body["error"] == f"Failed to load image_input[0]: {file['urls']['get']} was not found (deleted or expired)"


async def test_non_image_uploads_fail_the_prediction(replicate: Replicate) -> None:
    file = await replicate.uploaded(b"%PDF-1.4 hello", "doc.pdf", "application/pdf")
    body = (await replicate.create({"image_input": [file["urls"]["get"]]}, prefer="wait")).json()
    assert body["status"] == "failed" and "image_input[0]" in body["error"]


async def test_unknown_paths_on_the_emulator_fail_the_prediction(replicate: Replicate) -> None:
    body = (
        await replicate.create(
            {"image_input": ["http://testserver/files/nothing.jpg", "http://testserver/elsewhere"]}, prefer="wait"
        )
    ).json()
    assert body["status"] == "failed" and "nothing.jpg was not found" in body["error"]


async def test_non_http_uris_fail_the_prediction(replicate: Replicate) -> None:
    body = (await replicate.create({"image_input": ["ftp://example.com/a.png"]}, prefer="wait")).json()
    assert body["status"] == "failed" and "not an HTTP(S) URL" in body["error"]


async def test_large_inline_inputs_are_decoded_off_the_event_loop(replicate: Replicate) -> None:
    noisy = "data:image/png;base64," + base64.b64encode(_noise_png(700, 700)).decode()
    assert len(noisy) > 256 * 1024
    body = await replicate.run({"size": "1K", "image_input": [noisy]})
    assert body["status"] == "succeeded"


def _noise_png(width: int, height: int) -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(0)
    image = Image.frombytes("RGB", (width, height), bytes(rng.getrandbits(8) for _ in range(width * height * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
