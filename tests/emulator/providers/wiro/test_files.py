import pytest

from contracts.wiro import rules
from emulator import read_metadata
from emulator.providers.wiro.errors import WiroError
from emulator.providers.wiro.models import Upload
from tests.emulator.providers.wiro.wiro_support import (
    WiroClient,
    error_of,
    failed,
    signed_headers,
    until,
)
from tests.support import contract_errors, image_bytes


async def folder(wiro: WiroClient, **body) -> dict:
    response = await wiro.post("/File/FolderCreate", json=body)
    reply = response.json()
    assert contract_errors("wiro", "folderCreateResult", reply) == [], reply
    return reply["list"][0]


async def upload(wiro: WiroClient, content: bytes, name: str = "photo.png", kind: str = "image/png", **fields) -> dict:
    response = await wiro.post("/File/Upload", files={"file": (name, content, kind)}, data=fields)
    reply = response.json()
    assert contract_errors("wiro", "uploadResult", reply) == [], reply
    return reply["list"][0]


async def test_folder_create_returns_a_list_record(wiro: WiroClient) -> None:
    created = await folder(wiro, name="training-data_1")
    assert created["name"] == "training-data_1" and created["size"] == "0" and created["contenttype"] == ""
    child = await folder(wiro, name="child", parentid=created["id"])
    assert child["parentid"] == created["id"]
    sibling = await folder(wiro, name="sibling")
    assert sibling["parentid"] == created["parentid"], "both sit in the project's root folder"


@pytest.mark.parametrize(
    "body, expected",
    [
        ({}, (200, 0, "Request parameter [name] required")),
        ({"name": "has space"}, (200, 0, "Request parameters are invalid.")),
        ({"name": ""}, (200, 0, "Request parameters are invalid.")),
        ({"name": 5}, (200, 0, "Request parameters are invalid.")),
        ({"name": "ok", "parentid": "0" * 32}, (200, 1, "folder-not-exist")),
    ],
)
async def test_folder_create_errors(wiro: WiroClient, body: dict, expected: tuple) -> None:
    assert error_of(await wiro.post("/File/FolderCreate", json=body)) == expected


async def test_folders_belong_to_their_project(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("k1:s1", "k2:s2"), key="k1", secret="s1")
    mine = await folder(wiro, name="mine")
    response = await wiro.client.post(
        "/wiro/v1/File/FolderCreate", json={"name": "x", "parentid": mine["id"]}, headers=signed_headers("k2", "s2")
    )
    assert error_of(response) == (200, 1, "folder-not-exist")


async def test_uploaded_image_is_served_and_usable_as_input_image(wiro: WiroClient) -> None:
    content = image_bytes(80, 60)
    target = await folder(wiro, name="refs")
    record = await upload(wiro, content, folderid=target["id"])
    assert (
        record["name"] == "photo.png" and record["contenttype"] == "image/png" and record["size"] == str(len(content))
    )
    assert record["parentid"] == target["id"]
    served = await wiro.client.get(record["url"])
    assert served.status_code == 200 and served.content == content and served.headers["content-type"] == "image/png"

    reply = await wiro.start(inputImage=[record["url"]])
    await until(lambda: wiro.service._tasks[reply["taskid"]].terminal)
    task = await wiro.task(reply["taskid"])
    assert task["parameters"]["inputImage"] == record["url"]
    output = (await wiro.client.get(task["outputs"][0]["url"])).content
    assert read_metadata(output)["reference_count"] == 1


async def test_upload_without_folder_goes_to_the_root(wiro: WiroClient) -> None:
    root_child = await folder(wiro, name="x")
    record = await upload(wiro, image_bytes())
    assert record["parentid"] == root_child["parentid"]


async def test_other_files_are_kept_but_are_not_input_images(wiro: WiroClient) -> None:
    record = await upload(wiro, b"a,b\n1,2\n", name="data.csv", kind="text/csv")
    assert record["contenttype"] == "text/csv" and record["url"].endswith(".csv")
    served = await wiro.client.get(record["url"])
    assert served.content == b"a,b\n1,2\n" and served.headers["content-type"] == "application/octet-stream"
    # Wiro reads URL inputs while preprocessing the task: a file that is no image fails the task, not the Run.
    run = await wiro.start(prompt="x", inputImage=[record["url"]])
    task = await failed(wiro, run["taskid"])
    assert "is not a JPEG, PNG or WEBP image" in task["debugerror"]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"data": {"folderid": "x"}}, "Request files [file] required"),
        ({"data": {"file": "just text"}}, "Request files [file] required"),
        ({"files": {"file": ("empty.png", b"", "image/png")}}, "Request files [file] required"),
        ({"json": {"file": "x"}}, "Request files [file] required"),
    ],
)
async def test_upload_needs_a_file(wiro: WiroClient, kwargs: dict, expected: str) -> None:
    assert error_of(await wiro.post("/File/Upload", **kwargs)) == (200, 0, expected)


async def test_upload_into_an_unknown_folder(wiro: WiroClient) -> None:
    response = await wiro.post(
        "/File/Upload", files={"file": ("a.png", image_bytes(), "image/png")}, data={"folderid": "nope"}
    )
    assert error_of(response) == (200, 1, "folder-not-exist")


async def test_files_above_the_documented_limit_are_refused(wiro: WiroClient) -> None:
    project = wiro.service.auth.projects["wiro-dev-key"]
    big = Upload("big.bin", "application/octet-stream", bytes(rules.UPLOAD_MAX_BYTES + 1))
    with pytest.raises(WiroError) as raised:
        await wiro.service.upload(project, {"file": big}, "http://testserver")
    assert raised.value.message == "Request files [file] must be at most 104857600 bytes"


async def test_upload_storage_budget_is_a_wiro_error(make_wiro) -> None:
    wiro = await make_wiro(upload_storage_mb=0)
    response = await wiro.post("/File/Upload", files={"file": ("a.png", image_bytes(), "image/png")})
    assert error_of(response) == (200, 0, "Upload storage is full.")
