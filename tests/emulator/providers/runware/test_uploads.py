import base64
import io
import random

import pytest
from PIL import Image

from emulator.core import images
from tests.support import contract_errors, data_uri, task_uuid

from .conftest import Runware, RunwareFactory


async def test_image_upload_returns_uuid_and_a_url_serving_the_bytes(runware: Runware) -> None:
    task = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": data_uri(40, 30, "WEBP")}
    [item] = (await runware.create(task)).json()["data"]
    assert contract_errors("runware", "imageUploadResult", item) == []
    served = await runware.client.get(item["imageURL"])
    assert served.headers["content-type"] == "image/webp"
    assert images.inspect(served.content).width == 40


async def test_media_storage_upload_returns_media_fields(runware: Runware) -> None:
    task = {"taskType": "mediaStorage", "taskUUID": task_uuid(), "operation": "upload", "media": data_uri()}
    [item] = (await runware.create(task)).json()["data"]
    assert contract_errors("runware", "mediaStorageResult", item) == []
    assert (await runware.client.get(item["mediaURL"])).status_code == 200


async def test_url_uploads_are_recorded_without_fetching(runware: Runware) -> None:
    task = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": "https://example.com/cat.png"}
    [item] = (await runware.create(task)).json()["data"]
    assert item["imageURL"] == "https://example.com/cat.png"


async def test_upload_can_be_fetched_again_with_get_response(runware: Runware) -> None:
    task = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": data_uri()}
    [item] = (await runware.create(task)).json()["data"]
    polled = (await runware.poll(task["taskUUID"])).json()["data"]
    assert polled == [item]


async def test_an_upload_of_an_emulator_file_is_that_file(runware: Runware) -> None:
    # The emulator's own URLs stand for Runware's (im.runware.ai), which production reads: no download, no warning.
    [generated] = await runware.finished()
    for image in (generated["imageURL"], generated["imageUUID"]):
        task = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": image}
        [item] = (await runware.create(task)).json()["data"]
        assert (item["imageUUID"], item["imageURL"]) == (generated["imageUUID"], generated["imageURL"])
        assert runware.entries()[-1].warnings == []
    assert runware.fixtures.requests == []


async def test_an_upload_of_a_gone_emulator_file_is_refused(runware: Runware) -> None:
    gone = "http://testserver/files/0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4e.jpg"
    response = await runware.create({"taskType": "imageUpload", "taskUUID": task_uuid(), "image": gone})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalidImage" and "expired or never existed" in error["message"]


@pytest.mark.parametrize("image", ["", "data:image/png;base64,AAAA", "notbase64***"])
async def test_broken_uploads_are_invalid_image(runware: Runware, image: str) -> None:
    response = await runware.create({"taskType": "imageUpload", "taskUUID": task_uuid(), "image": image})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalidImage"


async def test_uploads_beyond_the_storage_budget_are_refused(make_runware: RunwareFactory) -> None:
    runware = await make_runware(upload_storage_mb=1)
    noise = Image.frombytes("RGB", (300, 300), random.Random(0).randbytes(300 * 300 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    big = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    statuses = []
    for _ in range(10):
        response = await runware.create({"taskType": "imageUpload", "taskUUID": task_uuid(), "image": big})
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
    assert statuses[:3] == [200, 200, 200]
    assert statuses[-1] == 413
    assert response.json()["errors"][0]["code"] == "maxUploadStorageExceeded"
