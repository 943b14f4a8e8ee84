"""Wiro's limits at their boundaries and hostile input, with hypothesis: always Wiro's envelope, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.wiro import rules
from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from tests.support import SyncClient, contract_errors

examples = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADERS = {"x-api-key": "fuzz-key"}
RUN = "/wiro/v1/Run/bytedance/seedream-v4"
URL = "https://example.com/i.png"
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    ["prompt", "size", "maxImages", "inputImage", "inputImageUrl", "watermark", "callbackUrl", "projectid"]
) | st.text(max_size=10)


@pytest.fixture(scope="module")
def client() -> Iterator[SyncClient]:
    # A clock that never moves: tasks stay queued, so no image is ever rendered while fuzzing.
    settings_ = Settings(timing="realistic", seed=3, wiro_projects=("fuzz-key:unused:keyonly",))
    client = SyncClient(create_app(settings_, clock=ManualClock()))
    yield client
    client.close()


SUCCESS = {
    "Run": "runResult",
    "Detail": "taskDetailResult",
    "Kill": "taskActionResult",
    "Cancel": "taskActionResult",
    "Upload": "uploadResult",
    "FolderCreate": "folderCreateResult",
}


def wiro_reply(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 401, 404, 413), response.text
    body = response.json()
    if body.get("result") is True:
        call = response.request.url.path.split("/")[3]
        call = "Run" if call == "Run" else response.request.url.path.split("/")[4]
        assert contract_errors("wiro", SUCCESS[call], body) == [], body
    else:
        assert contract_errors("wiro", "error", body) == [], body
    return body


def run(client: SyncClient, body: dict[str, Any]) -> dict[str, Any]:
    return wiro_reply(client.post(RUN, json=body, headers=HEADERS))


@examples
@given(
    size=st.sampled_from(rules.SIZES) | st.text(max_size=12) | st.from_regex(r"[0-9]{3,4}x[0-9]{3,4}", fullmatch=True)
)
def test_only_the_eight_sizes_are_accepted(client: SyncClient, size: str) -> None:
    body = run(client, {"prompt": "p", "size": size})
    assert body["result"] is (size in rules.SIZES)
    if not body["result"]:
        assert body["errors"][0] == {"code": 0, "message": "Request parameters are invalid."}


@examples
@given(count=st.integers(-3, 20), references=st.integers(0, 16), as_text=st.booleans())
def test_image_counts_and_references(client: SyncClient, count: int, references: int, as_text: bool) -> None:
    body = run(client, {"prompt": "p", "maxImages": str(count) if as_text else count, "inputImage": [URL] * references})
    valid = 1 <= count <= 15 and references <= 14 and references + count <= 15
    assert body["result"] is valid
    if valid:
        return
    message = body["errors"][0]["message"]
    if not 1 <= count <= 15:
        assert message == "Request parameter [maxImages] must be between 1 and 15"
    elif references > 14:
        assert message == "Request parameter [inputImage] must be between 0 and 14"
    else:
        assert message == f"Request parameter [maxImages] must be between 1 and {15 - references}"


@examples
@given(body=st.dictionaries(field_names, json_values, max_size=6))
def test_any_json_body_gets_a_wiro_reply(client: SyncClient, body: dict[str, Any]) -> None:
    run(client, body)


@examples
@given(
    raw=st.binary(max_size=300),
    kind=st.sampled_from(
        ["application/json", "multipart/form-data; boundary=b", "application/x-www-form-urlencoded", "text/plain", ""]
    ),
)
def test_any_bytes_get_a_wiro_reply(client: SyncClient, raw: bytes, kind: str) -> None:
    for path in (
        RUN,
        "/wiro/v1/Task/Detail",
        "/wiro/v1/Task/Kill",
        "/wiro/v1/File/Upload",
        "/wiro/v1/File/FolderCreate",
    ):
        wiro_reply(client.post(path, content=raw, headers={**HEADERS, "content-type": kind}))


@examples
@given(
    fields=st.lists(st.tuples(field_names, st.text(max_size=40)), max_size=6),
    files=st.lists(st.tuples(field_names, st.binary(max_size=60)), max_size=3),
)
def test_any_multipart_gets_a_wiro_reply(client: SyncClient, fields: list, files: list) -> None:
    parts = [(name, (None, value)) for name, value in fields] + [
        (name, ("f.png", data, "image/png")) for name, data in files
    ]
    if not parts:
        parts = [("prompt", (None, "p"))]
    wiro_reply(client.post(RUN, files=parts, headers=HEADERS))
    wiro_reply(client.post("/wiro/v1/File/Upload", files=parts, headers=HEADERS))


@examples
@given(
    body=st.dictionaries(st.sampled_from(["taskid", "tasktoken", "socketaccesstoken", "x"]), json_values, max_size=3)
)
def test_task_calls_with_any_body(client: SyncClient, body: dict[str, Any]) -> None:
    for call in ("Detail", "Kill", "Cancel"):
        wiro_reply(client.post(f"/wiro/v1/Task/{call}", json=body, headers=HEADERS))


@examples
@given(
    path=st.from_regex(r"/wiro/v1/[A-Za-z/]{0,30}", fullmatch=True),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
)
def test_any_path_is_known_or_error_parsing_url(client: SyncClient, path: str, method: str) -> None:
    wiro_reply(client.request(method, path, headers=HEADERS))


@examples
@given(key=st.text(max_size=20), nonce=st.text(max_size=20), signature=st.text(max_size=70))
def test_any_auth_headers_get_a_wiro_reply(client: SyncClient, key: str, nonce: str, signature: str) -> None:
    headers = {"x-api-key": key, "x-nonce": nonce, "x-signature": signature}
    safe = {name: value for name, value in headers.items() if value.isprintable() and value.isascii()}
    reply = wiro_reply(client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=safe))
    if safe.get("x-api-key") != "fuzz-key":
        assert reply["errors"][0]["message"] == "Project authorization is not founded."
