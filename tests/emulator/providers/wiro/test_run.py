import pytest

from emulator import read_metadata
from tests.support import contract_errors, image_bytes

from .conftest import Wiro, error_of

URL = "https://example.com/ref.png"


async def test_json_run_replies_in_the_seed_shape(wiro: Wiro) -> None:
    response = await wiro.run({"prompt": "A serene desert", "size": "2560x1440", "maxImages": 2, "watermark": "false"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["errors", "taskid", "socketaccesstoken", "result"]
    assert body["errors"] == [] and body["result"] is True
    assert body["taskid"].isdigit() and len(body["socketaccesstoken"]) == 30
    assert contract_errors("wiro", "runResult", body) == []


async def test_outputs_are_real_pngs_of_the_requested_size(wiro: Wiro) -> None:
    reply = await wiro.create(prompt="two posters", size="3024x1296", maxImages=2)
    task = await wiro.finished(reply["taskid"])
    assert [output["name"] for output in task["outputs"]] == ["0.png", "1.png"]
    for index, output in enumerate(task["outputs"]):
        download = await wiro.client.get(output["url"])
        assert download.status_code == 200 and download.headers["content-type"] == "image/png"
        assert int(output["size"]) == len(download.content)
        record = read_metadata(download.content)
        assert (record["width"], record["height"], record["index"]) == (3024, 1296, index)
        assert record["provider"] == "wiro" and record["model"] == "bytedance/seedream-v4"
        assert record["job_id"] == reply["taskid"]
    assert task["size"] == str(sum(int(output["size"]) for output in task["outputs"]))


async def test_defaults_are_one_square_image_without_watermark(wiro: Wiro) -> None:
    reply = await wiro.create()
    task = await wiro.finished(reply["taskid"])
    assert task["parameters"] == {
        "prompt": "a lighthouse at dusk",
        "size": "2048x2048",
        "maxImages": "1",
        "watermark": "false",
    }
    assert len(task["outputs"]) == 1


async def test_multipart_mixes_files_and_urls_in_repeated_input_image(wiro: Wiro) -> None:
    files = [
        ("inputImage", ("one.png", image_bytes(40, 30), "image/png")),
        ("inputImage", (None, URL)),
        ("inputImage", ("two.jpg", image_bytes(20, 20, "JPEG"), "image/jpeg")),
        ("prompt", (None, "combine them")),
        ("size", (None, "1728x2304")),
        ("maxImages", (None, "2")),
        ("watermark", (None, "true")),
    ]
    response = await wiro.run(files=files)
    assert response.status_code == 200 and response.json()["result"] is True, response.text
    task = await wiro.finished(response.json()["taskid"])
    references = task["parameters"]["inputImage"].split(",")
    assert len(references) == 3 and references[1] == URL
    for uploaded in (references[0], references[2]):
        assert (await wiro.client.get(uploaded)).status_code == 200
    assert task["parameters"]["maxImages"] == "2" and task["parameters"]["watermark"] == "true"
    image = (await wiro.client.get(task["outputs"][0]["url"])).content
    assert read_metadata(image)["reference_count"] == 3


async def test_url_encoded_body_is_accepted(wiro: Wiro) -> None:
    response = await wiro.run(data={"prompt": "form", "maxImages": "1", "inputImage": URL})
    assert response.json()["result"] is True
    task = await wiro.task(response.json()["taskid"])
    assert task["parameters"]["inputImage"] == URL


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"inputImage": [URL, URL + "?2"]}, [URL, URL + "?2"]),
        ({"inputImage": f"{URL}, {URL}?2"}, [URL, URL + "?2"]),
        ({"inputImageUrl": URL}, [URL]),
        ({"inputImage": "https://example.com/a.png?size=1,2"}, ["https://example.com/a.png?size=1,2"]),
        ({"inputImage": []}, []),
    ],
)
async def test_input_image_encodings(wiro: Wiro, body: dict, expected: list) -> None:
    reply = await wiro.create(**body)
    task = await wiro.task(reply["taskid"])
    assert task["parameters"].get("inputImage", "") == ",".join(expected)


async def test_owner_slug_is_case_insensitive(wiro: Wiro) -> None:
    response = await wiro.run({"prompt": "x"}, path="/Run/ByteDance/seedream-v4")
    assert response.json()["result"] is True


@pytest.mark.parametrize("path", ["/Run/bytedance/seedream-v4-5", "/Run/openai/seedream-v4", "/Run/x/y"])
async def test_other_models_do_not_exist(wiro: Wiro, path: str) -> None:
    assert error_of(await wiro.run({"prompt": "x"}, path=path)) == (200, 1, "slug-owner-project-not-exist")


INVALID = "Request parameters are invalid."


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "Request parameter [prompt] required"),
        ({"prompt": ""}, "Request parameter [prompt] required"),
        ({"prompt": None}, "Request parameter [prompt] required"),
        ({"prompt": 5}, INVALID),
        ({"prompt": "x", "size": "1024x1024"}, INVALID),
        ({"prompt": "x", "size": "2K"}, INVALID),
        ({"prompt": "x", "maxImages": 0}, "Request parameter [maxImages] must be between 1 and 15"),
        ({"prompt": "x", "maxImages": 16}, "Request parameter [maxImages] must be between 1 and 15"),
        ({"prompt": "x", "maxImages": "0"}, "Request parameter [maxImages] must be between 1 and 15"),
        ({"prompt": "x", "maxImages": "many"}, "Request parameter [maxImages] must be integer or float"),
        ({"prompt": "x", "maxImages": True}, "Request parameter [maxImages] must be integer or float"),
        ({"prompt": "x", "maxImages": 2.5}, INVALID),
        ({"prompt": "x", "watermark": "yes"}, INVALID),
        ({"prompt": "x", "callbackUrl": "not a url"}, INVALID),
        ({"prompt": "x", "callbackUrl": "ftp://host/x"}, INVALID),
        ({"prompt": "x", "inputImage": ["not-a-url"]}, INVALID),
        ({"prompt": "x", "inputImage": [{"filename": "a", "contenttype": "image/png", "size": 3}]}, INVALID),
        ({"prompt": "x", "inputImage": [URL] * 15}, "Request parameter [inputImage] must be between 0 and 14"),
        (
            {"prompt": "x", "inputImage": [URL] * 14, "maxImages": 2},
            "Request parameter [maxImages] must be between 1 and 1",
        ),
        (
            {"prompt": "x", "inputImage": [URL] * 5, "maxImages": 11},
            "Request parameter [maxImages] must be between 1 and 10",
        ),
    ],
)
async def test_validation_errors_use_wiros_envelope_and_messages(wiro: Wiro, body: dict, message: str) -> None:
    response = await wiro.run(body)
    assert error_of(response) == (200, 0, message)
    assert contract_errors("wiro", "error", response.json()) == []
    [entry] = wiro.runtime.journal.entries(surface="wiro")
    assert entry.violations, "the journal records what was wrong"


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "x", "maxImages": 15},
        {"prompt": "x", "maxImages": "15"},
        {"prompt": "x", "maxImages": 1.0},
        {"prompt": "x", "inputImage": [URL] * 14, "maxImages": 1},
        {"prompt": "x", "inputImage": [URL] * 10, "maxImages": 5},
        {"prompt": "x", "watermark": True},
        {"prompt": "x", "callbackUrl": ""},
        {"prompt": "x", "projectid": "123", "unknown": {"a": 1}},
    ],
)
async def test_limits_are_inclusive(make_wiro, clock, body: dict) -> None:
    wiro = await make_wiro(clock=clock, timing="realistic")
    response = await wiro.run(body)
    assert response.json()["result"] is True, response.text


async def test_watermark_boolean_is_read_as_its_string(wiro: Wiro) -> None:
    reply = await wiro.create(watermark=True)
    assert (await wiro.task(reply["taskid"]))["parameters"]["watermark"] == "true"


async def test_every_size_gives_its_dimensions(make_wiro) -> None:
    from contracts.wiro import rules

    wiro = await make_wiro()
    for size in rules.SIZES:
        reply = await wiro.create(size=size)
        spec = wiro.stored(reply["taskid"]).specs[0]
        assert f"{spec.width}x{spec.height}" == size


async def test_uploaded_input_that_is_not_an_image_is_invalid(wiro: Wiro) -> None:
    files = [("inputImage", ("notes.txt", b"hello", "text/plain")), ("prompt", (None, "x"))]
    assert error_of(await wiro.run(files=files)) == (200, 0, INVALID)


async def test_a_local_file_url_that_is_gone_fails_the_task(wiro: Wiro) -> None:
    run = await wiro.create(prompt="x", inputImage=["http://testserver/files/0123456789abcdef0123456789abcdef.png"])
    task = await wiro.failed(run["taskid"])
    assert task["debugerror"] == (
        "inputImage[0] could not be downloaded: "
        "http://testserver/files/0123456789abcdef0123456789abcdef.png has expired or never existed"
    )


@pytest.mark.parametrize(
    "content, kind, message",
    [
        (b"{not json", "application/json", INVALID),
        (b"[1, 2]", "application/json", INVALID),
        (b'"text"', "text/plain", INVALID),
        (b"anything", "multipart/form-data", INVALID),
        (
            b"--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n",
            "multipart/form-data; boundary=x",
            INVALID,
        ),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x", "Request parameter [prompt] required"),
        (b"", "application/json", "Request parameter [prompt] required"),
    ],
)
async def test_malformed_bodies_are_wiro_errors(wiro: Wiro, content: bytes, kind: str, message: str) -> None:
    response = await wiro.run(content=content, headers={"content-type": kind})
    assert error_of(response) == (200, 0, message)


async def test_oversized_input_file_is_refused(wiro: Wiro, monkeypatch) -> None:
    from contracts.wiro import rules

    monkeypatch.setattr(rules, "UPLOAD_MAX_BYTES", 100)
    files = [("inputImage", ("big.png", image_bytes(64, 64), "image/png")), ("prompt", (None, "x"))]
    assert error_of(await wiro.run(files=files)) == (200, 0, "Request files [inputImage] must be at most 100 bytes")


async def test_oversized_body_is_413(make_wiro) -> None:
    wiro = await make_wiro(max_body_mb=1)
    response = await wiro.post(
        "/Task/Detail", content=b"{" + b" " * (2**20 + 10) + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["result"] is False


async def test_task_ids_increase_and_are_deterministic(make_wiro) -> None:
    runs = []
    for _ in range(2):
        wiro = await make_wiro(seed=5)
        runs.append([(await wiro.create())["taskid"] for _ in range(3)])
    assert runs[0] == runs[1]
    assert [int(taskid) for taskid in runs[0]] == list(range(int(runs[0][0]), int(runs[0][0]) + 3))
