import pytest

from contracts.wiro import rules
from emulator import read_metadata
from emulator.core.http import Part
from emulator.providers.wiro.errors import WiroError
from tests.support import contract_errors, image_bytes

from .conftest import (
    Wiro,
    error_of,
    signed_headers,
)


async def folder(wiro: Wiro, **body) -> dict:
    response = await wiro.post("/File/FolderCreate", json=body)
    reply = response.json()
    assert contract_errors("wiro", "folderCreateResult", reply) == [], reply
    return reply["list"][0]


async def upload(wiro: Wiro, content: bytes, name: str = "photo.png", kind: str = "image/png", **fields) -> dict:
    response = await wiro.post("/File/Upload", files={"file": (name, content, kind)}, data=fields)
    reply = response.json()
    assert contract_errors("wiro", "uploadResult", reply) == [], reply
    return reply["list"][0]


async def test_folder_create_returns_a_list_record(wiro: Wiro) -> None:
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
async def test_folder_create_errors(wiro: Wiro, body: dict, expected: tuple) -> None:
    assert error_of(await wiro.post("/File/FolderCreate", json=body)) == expected


async def test_folders_belong_to_their_project(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("k1:s1", "k2:s2"), key="k1", secret="s1")
    mine = await folder(wiro, name="mine")
    response = await wiro.client.post(
        "/wiro/v1/File/FolderCreate", json={"name": "x", "parentid": mine["id"]}, headers=signed_headers("k2", "s2")
    )
    assert error_of(response) == (200, 1, "folder-not-exist")


async def test_uploaded_image_is_served_and_usable_as_input_image(wiro: Wiro) -> None:
    content = image_bytes(80, 60)
    target = await folder(wiro, name="refs")
    record = await upload(wiro, content, folderid=target["id"])
    assert (
        record["name"] == "photo.png" and record["contenttype"] == "image/png" and record["size"] == str(len(content))
    )
    assert record["parentid"] == target["id"]
    served = await wiro.client.get(record["url"])
    assert served.status_code == 200 and served.content == content and served.headers["content-type"] == "image/png"

    reply = await wiro.create(inputImage=[record["url"]])
    task = await wiro.finished(reply["taskid"])
    assert task["parameters"]["inputImage"] == record["url"]
    output = (await wiro.client.get(task["outputs"][0]["url"])).content
    assert read_metadata(output)["reference_count"] == 1


async def test_upload_without_folder_goes_to_the_root(wiro: Wiro) -> None:
    root_child = await folder(wiro, name="x")
    record = await upload(wiro, image_bytes())
    assert record["parentid"] == root_child["parentid"]


async def test_other_files_are_kept_but_are_not_input_images(wiro: Wiro) -> None:
    record = await upload(wiro, b"a,b\n1,2\n", name="data.csv", kind="text/csv")
    assert record["contenttype"] == "text/csv" and record["url"].endswith(".csv")
    served = await wiro.client.get(record["url"])
    assert served.content == b"a,b\n1,2\n" and served.headers["content-type"] == "application/octet-stream"
    # Wiro reads URL inputs while preprocessing the task: a file that is no image fails the task, not the Run.
    run = await wiro.create(prompt="x", inputImage=[record["url"]])
    task = await wiro.failed(run["taskid"])
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
async def test_upload_needs_a_file(wiro: Wiro, kwargs: dict, expected: str) -> None:
    assert error_of(await wiro.post("/File/Upload", **kwargs)) == (200, 0, expected)


async def test_upload_into_an_unknown_folder(wiro: Wiro) -> None:
    response = await wiro.post(
        "/File/Upload", files={"file": ("a.png", image_bytes(), "image/png")}, data={"folderid": "nope"}
    )
    assert error_of(response) == (200, 1, "folder-not-exist")


async def test_files_above_the_documented_limit_are_refused(wiro: Wiro) -> None:
    project = wiro.service.auth.projects["wiro-dev-key"]
    big = Part("big.bin", "application/octet-stream", bytes(rules.UPLOAD_MAX_BYTES + 1))
    with pytest.raises(WiroError) as raised:
        await wiro.service.files.upload(project, {"file": big}, "http://testserver")
    assert raised.value.message == "Request files [file] must be at most 104857600 bytes"


async def test_upload_storage_budget_is_a_wiro_error(make_wiro) -> None:
    wiro = await make_wiro(upload_storage_mb=0)
    response = await wiro.post("/File/Upload", files={"file": ("a.png", image_bytes(), "image/png")})
    assert error_of(response) == (200, 0, "Upload storage is full.")


async def test_the_root_folder_is_named_by_its_id_too(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("k1:s1", "k2:s2"), key="k1", secret="s1")
    root = (await folder(wiro, name="first"))["parentid"]
    assert (await folder(wiro, name="child", parentid=root))["parentid"] == root
    assert (await upload(wiro, image_bytes(), folderid=root))["parentid"] == root
    response = await wiro.client.post(
        "/wiro/v1/File/FolderCreate", json={"name": "x", "parentid": root}, headers=signed_headers("k2", "s2")
    )
    assert error_of(response) == (200, 1, "folder-not-exist")


async def test_old_folders_are_forgotten_beyond_retention_but_never_the_root(make_wiro) -> None:
    wiro = await make_wiro(job_retention=2)
    made = [await folder(wiro, name=f"f{index}") for index in range(3)]
    root = made[0]["parentid"]
    assert error_of(await wiro.post("/File/FolderCreate", json={"name": "x", "parentid": made[0]["id"]})) == (
        200,
        1,
        "folder-not-exist",
    )
    for kept in (made[1]["id"], made[2]["id"], root):
        assert (await folder(wiro, name="y", parentid=kept))["parentid"] == kept


async def test_files_may_be_larger_than_other_bodies(make_wiro) -> None:
    """`max_body_mb` bounds Task and folder calls; Run and File/Upload carry files of up to Wiro's own limit."""
    wiro = await make_wiro(max_body_mb=1)
    content = bytes(2**20 + 1000)
    record = await upload(wiro, content, name="blob.bin", kind="application/octet-stream")
    assert record["size"] == str(len(content))
    response = await wiro.post("/File/FolderCreate", json={"name": "x" * (2**20 + 1000)})
    assert response.status_code == 413 and response.json()["result"] is False
