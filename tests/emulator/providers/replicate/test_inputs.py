"""image_input: data URIs, the emulator's own files and outputs, other hosts, broken images."""

from __future__ import annotations

import base64

from tests.support import data_uri, image_bytes

from .conftest import AUTH, Replicate, ReplicateFactory, metadata


async def upload(replicate: Replicate, data: bytes, name: str = "input.png", content_type: str = "image/png") -> dict:
    response = await replicate.client.post(
        replicate.path("/v1/files"), files={"content": (name, data, content_type)}, headers=AUTH
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_uploaded_files_are_resolved_and_decoded(replicate: Replicate) -> None:
    file = await upload(replicate, image_bytes(1600, 900))
    body = await replicate.run({"size": "2K", "image_input": [file["urls"]["get"]]})
    assert body["status"] == "succeeded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"], record["reference_count"]) == (2560, 1440, 1)


async def test_download_urls_of_files_work_too(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(provider="all")
    file = await upload(replicate, image_bytes(900, 1600))
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


async def test_images_on_other_hosts_are_taken_on_trust(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K", "image_input": ["https://replicate.delivery/xezq/abc/tmp7cvbut6o.jpg"]})
    assert body["status"] == "succeeded"
    record = metadata(body["output"][0])
    assert (record["width"], record["height"], record["reference_count"]) == (1024, 1024, 1), (
        "size unknown offline: 1:1"
    )


async def test_broken_data_uri_fails_the_prediction(replicate: Replicate) -> None:
    bad = "data:image/png;base64," + base64.b64encode(b"not an image").decode()
    body = (await replicate.create({"image_input": [data_uri(), bad]}, prefer="wait")).json()
    assert body["status"] == "failed"
    assert body["error"].startswith("Failed to load image_input[1]: the image cannot be decoded")


async def test_non_base64_data_uri_fails_the_prediction(replicate: Replicate) -> None:
    body = (await replicate.create({"image_input": ["data:image/png,rawtext"]}, prefer="wait")).json()
    assert body["status"] == "failed" and "base64" in body["error"]


async def test_deleted_files_fail_the_prediction(replicate: Replicate) -> None:
    file = await upload(replicate, image_bytes())
    assert (await replicate.client.delete(replicate.path(f"/v1/files/{file['id']}"), headers=AUTH)).status_code == 204
    body = (await replicate.create({"image_input": [file["urls"]["get"]]}, prefer="wait")).json()
    assert body["status"] == "failed"
    assert body["error"] == f"Failed to load image_input[0]: {file['urls']['get']} was not found (deleted or expired)"


async def test_non_image_uploads_fail_the_prediction(replicate: Replicate) -> None:
    file = await upload(replicate, b"%PDF-1.4 hello", "doc.pdf", "application/pdf")
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
