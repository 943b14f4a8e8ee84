"""The files API: multipart upload, file objects, list, download, delete, limits."""

from __future__ import annotations

import hashlib
import json

import pytest

from contracts.replicate import rules
from tests.support import contract_errors, image_bytes

from .conftest import AUTH, Replicate, ReplicateFactory


async def test_upload_returns_the_full_file_object(replicate: Replicate) -> None:
    data = image_bytes(32, 32)
    response = await replicate.upload(data, "cat.png", "image/png", metadata=json.dumps({"owner": "me"}))
    assert response.status_code == 201
    body = response.json()
    assert contract_errors("replicate", "file", body) == []
    md5 = hashlib.md5(data).hexdigest()
    assert (body["name"], body["content_type"], body["size"], body["etag"]) == ("cat.png", "image/png", len(data), md5)
    assert body["checksums"] == {"sha256": hashlib.sha256(data).hexdigest(), "md5": md5}
    assert body["metadata"] == {"owner": "me"}
    assert body["urls"] == {"get": f"http://testserver/v1/files/{body['id']}"}
    got = await replicate.get(body["urls"]["get"])
    assert got.status_code == 200 and got.json() == body


async def test_download_returns_the_bytes(replicate: Replicate) -> None:
    body = (await replicate.upload(b"\x00\x01binary", "blob.bin", "application/octet-stream")).json()
    response = await replicate.get(f"files/{body['id']}/download")
    assert response.status_code == 200
    assert response.content == b"\x00\x01binary"
    assert response.headers["content-type"] == "application/octet-stream"
    assert "blob.bin" in response.headers["content-disposition"]


async def test_filename_and_type_fields_override_the_part(replicate: Replicate) -> None:
    body = (
        await replicate.upload(b"x", "part.bin", "application/octet-stream", filename="named.jpg", type="image/jpeg")
    ).json()
    assert (body["name"], body["content_type"]) == ("named.jpg", "image/jpeg")


async def test_delete_then_everything_is_404(replicate: Replicate) -> None:
    body = (await replicate.upload()).json()
    deleted = await replicate.client.delete(replicate.path(f"/v1/files/{body['id']}"), headers=AUTH)
    assert deleted.status_code == 204 and deleted.content == b""
    for response in (
        await replicate.get(f"files/{body['id']}"),
        await replicate.get(f"files/{body['id']}/download"),
        await replicate.client.delete(replicate.path(f"/v1/files/{body['id']}"), headers=AUTH),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": "File not found", "status": 404}


async def test_list_is_most_recent_first(replicate: Replicate) -> None:
    ids = [(await replicate.upload(name=f"{n}.txt")).json()["id"] for n in range(3)]
    body = (await replicate.get("files")).json()
    assert contract_errors("replicate", "filePage", body) == []
    assert [f["id"] for f in body["results"]] == ids[::-1]
    assert body["next"] is None and body["previous"] is None


async def test_files_expire_after_a_day(make_replicate: ReplicateFactory, clock) -> None:
    replicate = await make_replicate(clock=clock)
    body = (await replicate.upload()).json()
    clock.advance(rules.RULES["files"]["ttlSeconds"] - 1)
    assert (await replicate.get(f"files/{body['id']}")).status_code == 200
    clock.advance(2)
    assert (await replicate.get(f"files/{body['id']}")).status_code == 404
    assert (await replicate.get("files")).json()["results"] == []


async def test_too_large_files_are_413(replicate: Replicate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rules.RULES["files"], "maxBytes", 1000)
    response = await replicate.upload(b"x" * 1000)
    assert response.status_code == 413
    assert response.json()["detail"] == "Files must be less than 0MB in size"
    assert (await replicate.upload(b"x" * 999)).status_code == 201


async def test_an_upload_body_beyond_the_file_limit_is_refused_unread(
    make_replicate: ReplicateFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rules.RULES["files"], "maxBytes", 1000)
    replicate = await make_replicate()
    response = await replicate.upload(b"x" * (1000 + 2**20))
    assert response.status_code == 413
    assert response.json()["detail"] == "Files must be less than 0MB in size"
    assert replicate.entries()[-1].route == "POST /v1/files"


async def test_the_real_limit_reads_100mb() -> None:
    from emulator.providers.replicate import errors

    assert errors.file_too_large().body["detail"] == "Files must be less than 100MB in size"


async def test_long_filenames_are_refused(replicate: Replicate) -> None:
    limit = rules.RULES["files"]["maxFilenameBytes"]
    assert (await replicate.upload(name="a" * limit)).status_code == 201
    response = await replicate.upload(name="é" * limit)
    assert response.status_code == 400 and str(limit) in response.json()["detail"]


async def test_storage_budget_is_enforced(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(upload_storage_mb=1)
    assert (await replicate.upload(b"x" * 700_000)).status_code == 201
    response = await replicate.upload(b"x" * 700_000)
    assert response.status_code == 413 and response.json()["title"] == "Upload storage full"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"content": b'{"a": 1}', "headers": {"Content-Type": "application/json"}}, "multipart/form-data"),
        ({"content": b"garbage", "headers": {"Content-Type": "multipart/form-data; boundary=xyz"}}, ""),
        ({"files": {"file": ("a.txt", b"x", "text/plain")}}, '"content"'),
        ({"files": {"content": ("a.txt", b"x", "text/plain")}, "data": {"metadata": "[1, 2]"}}, "metadata"),
        ({"files": {"content": ("a.txt", b"x", "text/plain")}, "data": {"metadata": "{nope"}}, "metadata"),
    ],
)
async def test_malformed_uploads_are_400(replicate: Replicate, kwargs: dict, reason: str) -> None:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    response = await replicate.client.post(replicate.path("/v1/files"), headers=headers, **kwargs)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["title"] == "Invalid upload" and reason in body["detail"]
    assert contract_errors("replicate", "problem", body) == []
