import base64

import pytest

from emulator import read_metadata
from tests.support import data_uri, image_bytes, inference, task_uuid

from .conftest import Runware


async def reference_count(runware: Runware, references: list, **where: object) -> int:
    task = inference(**(where if where else {"inputs": {"referenceImages": references}}))
    response = await runware.create(task)
    assert response.status_code == 200, response.json()
    [item] = response.json()["data"]
    count = read_metadata((await runware.client.get(item["imageURL"])).content)["reference_count"]
    assert isinstance(count, int)
    return count


@pytest.mark.parametrize(
    "reference",
    [
        data_uri(fmt="PNG"),
        data_uri(fmt="JPEG"),
        data_uri(fmt="WEBP"),
        base64.b64encode(image_bytes(fmt="PNG")).decode(),
        "https://assets.runware.ai/assets/inputs/56479b8a-765e-4350-96b3-346fa826cbf6.jpg",
        {"image": data_uri(), "role": "style"},
    ],
)
async def test_each_reference_form_is_accepted(runware: Runware, reference: object) -> None:
    assert await reference_count(runware, [reference]) == 1


async def test_uploaded_image_uuid_is_a_reference(runware: Runware) -> None:
    upload = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": data_uri()}
    [item] = (await runware.create(upload)).json()["data"]
    assert await reference_count(runware, [item["imageUUID"]]) == 1


async def test_generated_image_uuid_and_url_are_references(runware: Runware) -> None:
    [generated] = await runware.finished()
    assert await reference_count(runware, [generated["imageUUID"], generated["imageURL"]]) == 2


async def test_top_level_references_count_like_nested_ones(runware: Runware) -> None:
    assert await reference_count(runware, [], referenceImages=[data_uri(), data_uri()]) == 2


async def test_references_in_both_places_are_refused_not_merged(runware: Runware) -> None:
    # A duplicated referenceImages field got a 400 from production (runware sdk-python PR #142).
    task = inference(inputs={"referenceImages": [data_uri()]}, referenceImages=[data_uri(), data_uri()])
    response = await runware.create(task)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["parameter"]) == (
        "invalidReferenceImages",
        ["referenceImages", "inputs.referenceImages"],
    )
    assert error["documentation"] == "https://runware.ai/docs/models/bytedance-seedream-4-0#request-referenceimages"


@pytest.mark.parametrize(
    "reference, detail",
    [
        ("0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e", "no uploaded or generated image"),
        ("data:image/png;base64,bm90IGFuIGltYWdl", "cannot be decoded"),
        ("!!!not-base64!!!", "invalid base64"),
        ("https://", "not a well-formed URL"),
        ("http://testserver/files/0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e.jpg", "expired or never existed"),
    ],
)
async def test_broken_references_are_invalid_reference_images(runware: Runware, reference: str, detail: str) -> None:
    task = inference(inputs={"referenceImages": [data_uri(), reference]})
    response = await runware.create(task)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalidReferenceImages"
    assert "reference image 1" in error["message"] and detail in error["message"]
    assert error["documentation"] == "https://runware.ai/docs/models/bytedance-seedream-4-0#request-referenceimages"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "PNG"])
async def test_truncated_references_are_invalid(runware: Runware, fmt: str) -> None:
    import random

    from PIL import Image

    noisy = Image.frombytes("RGB", (64, 64), random.Random(1).randbytes(64 * 64 * 3))
    out = __import__("io").BytesIO()
    noisy.save(out, fmt)
    cut = out.getvalue()[: len(out.getvalue()) // 2]
    task = inference(inputs={"referenceImages": [base64.b64encode(cut).decode()]})
    response = await runware.create(task)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalidReferenceImages"
