"""Official clients of Ark, unchanged but for their base URL, against a live emulator: the OpenAI Python client (as
Ark's docs show) and Ark's own runtime client (volcengine-ark-runtime), each in its cached virtualenv, and the
OpenAI npm client in the cached node_modules."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance import npm
from emulator import read_metadata
from tests.sdk.live import LiveEmulator
from tests.sdk.npm import modules_for, run_node
from tests.sdk.venvs import python_for, run_script
from tests.support import data_uri

pytestmark = pytest.mark.sdk
KEY = "ark-sdk-key"
MODEL = "seedream-4-0-250828"
MODEL_45 = "doubao-seedream-4-5-251128"
GROUP = {"sequential_image_generation": "auto", "sequential_image_generation_options": {"max_images": 3}}
PROMPT = "a lighthouse in four seasons, generate 3 images"
FAIL = "a fox [[emulator:fail=content_policy]]"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="fast", api_keys=(KEY,)) as server:
        yield server


def evidence(url: str) -> dict[str, Any]:
    return read_metadata(httpx.get(url, timeout=30).content)


# --- the OpenAI Python client --------------------------------------------------------------------------------

OPENAI_CASES = [
    {
        "name": "group",
        "args": {
            "model": MODEL,
            "prompt": PROMPT,
            "size": "1K",
            "response_format": "url",
            "extra_body": {**GROUP, "watermark": False},
        },
    },
    {
        "name": "b64",
        "args": {
            "model": MODEL_45,
            "prompt": "a teapot",
            "size": "2K",
            "response_format": "b64_json",
            "extra_body": {"seed": 99},
        },
    },
    {
        "name": "reference",
        "args": {"model": MODEL, "prompt": "the same cat", "size": "2K", "extra_body": {"image": [data_uri(90, 160)]}},
    },
    {"name": "bad_size", "args": {"model": MODEL_45, "prompt": "a teapot", "size": "1K"}},
    {"name": "unknown_model", "args": {"model": "seedream-9", "prompt": "a teapot"}},
    {"name": "wrong_key", "key": "not-the-key", "args": {"model": MODEL, "prompt": "a teapot"}},
    {"name": "stream", "stream": True, "args": {"model": MODEL, "prompt": PROMPT, "size": "1K", "extra_body": GROUP}},
    {
        "name": "stream_failed",
        "stream": True,
        "args": {"model": MODEL, "prompt": FAIL, "size": "1K", "extra_body": GROUP},
    },
]


@pytest.fixture(scope="module")
def openai_outcomes(live: LiveEmulator) -> dict[str, Any]:
    python = python_for("openai-3.51.0", "openai==3.51.0")
    payload = {"base": live.url("ark") + "/api/v3", "key": KEY, "cases": OPENAI_CASES}
    return run_script(python, "openai_ark.py", payload)


def test_openai_reads_a_group_of_urls(openai_outcomes: dict[str, Any]) -> None:
    reply = openai_outcomes["group"]["ok"]
    assert [image["size"] for image in reply["data"]] == ["1024x1024"] * 3
    assert reply["usage"]["total_tokens"] == 3 * 4096 and reply["usage"]["generated_images"] == 3
    assert [evidence(image["url"])["index"] for image in reply["data"]] == [0, 1, 2]


def test_openai_reads_base64_on_seedream_45(openai_outcomes: dict[str, Any]) -> None:
    [image] = openai_outcomes["b64"]["ok"]["data"]
    record = read_metadata(base64.b64decode(image["b64_json"]))
    assert (record["model"], record["width"], record["seed"]) == (MODEL_45, 2048, 99)


def test_openai_sends_references_in_extra_body(openai_outcomes: dict[str, Any]) -> None:
    [image] = openai_outcomes["reference"]["ok"]["data"]
    assert image["size"] == "1440x2560" and evidence(image["url"])["reference_count"] == 1


@pytest.mark.parametrize(
    ("case", "cls", "status", "code", "param"),
    [
        ("bad_size", "BadRequestError", 400, "InvalidParameter", "size"),
        ("unknown_model", "NotFoundError", 404, "InvalidEndpointOrModel.NotFound", "model"),
        ("wrong_key", "AuthenticationError", 401, "AuthenticationError", ""),
    ],
)
def test_openai_raises_typed_errors_with_arks_code_and_param(
    openai_outcomes: dict[str, Any], case: str, cls: str, status: int, code: str, param: str
) -> None:
    error = openai_outcomes[case]["error"]
    assert (error["class"], error["status"], error["code"], error["param"]) == (cls, status, code, param)
    assert "Request ID: 02" in error["message"]


def test_openai_streams_each_image_then_the_completion(openai_outcomes: dict[str, Any]) -> None:
    events = openai_outcomes["stream"]["events"]
    assert [event["type"] for event in events] == ["image_generation.partial_succeeded"] * 3 + [
        "image_generation.completed"
    ]
    assert events[-1]["usage"]["generated_images"] == 3


def test_openai_raises_at_a_partial_failure(openai_outcomes: dict[str, Any]) -> None:
    # Known client behaviour (docs/ark.md): the OpenAI client turns an event carrying `error` into APIError, so
    # the events after a partial_failed never reach the caller.
    outcome = openai_outcomes["stream_failed"]
    assert outcome["events"] == [] and outcome["error"]["class"] == "APIError"
    assert outcome["error"]["body"]["code"] == "OutputImageSensitiveContentDetected"


# --- Ark's own runtime client ----------------------------------------------------------------------------------

RUNTIME_CASES = [
    {"name": "single", "args": {"model": MODEL, "prompt": "a teapot", "size": "1K"}},
    {
        "name": "group",
        "args": {
            "model": "ep-20250828123456-abcde",
            "prompt": PROMPT,
            "size": "1K",
            "sequential_image_generation": "auto",
            "sequential_image_generation_options": {"max_images": 3},
            "watermark": False,
        },
    },
    {
        "name": "b64",
        "args": {
            "model": MODEL,
            "prompt": "a teapot",
            "size": "1K",
            "response_format": "b64_json",
            "image": data_uri(160, 90),
        },
    },
    {
        "name": "stream",
        "stream": True,
        "args": {"model": MODEL, "prompt": PROMPT, "size": "1K", "sequential_image_generation": "auto"},
    },
    {"name": "bad_size", "args": {"model": MODEL_45, "prompt": "a teapot", "size": "1K"}},
    {"name": "wrong_key", "key": "not-the-key", "args": {"model": MODEL, "prompt": "a teapot"}},
]


# Ark's runtime client as Volcengine ships it, and as BytePlus does inside byteplus-python-sdk-v2, whose `ark` extra
# leaves out httpx and sniffio, which its byteplussdkarkruntime imports (a known packaging problem: docs/ark.md).
RUNTIMES = {
    "volcengine": ("volcengine-ark-runtime-5.0.54", ("volcengine-ark-runtime==5.0.54",), "volcenginesdkarkruntime"),
    "byteplus": (
        "byteplus-python-sdk-v2-3.0.63",
        ("byteplus-python-sdk-v2[ark]==3.0.63", "httpx<0.30", "sniffio"),
        "byteplussdkarkruntime",
    ),
}


@pytest.fixture(scope="module", params=list(RUNTIMES))
def runtime_outcomes(request: pytest.FixtureRequest, live: LiveEmulator) -> dict[str, Any]:
    name, requirements, module = RUNTIMES[request.param]
    python = python_for(name, *requirements)
    payload = {"base": live.url("ark") + "/api/v3", "key": KEY, "module": module, "cases": RUNTIME_CASES}
    return run_script(python, "ark_runtime.py", payload)


def test_ark_runtime_generates_one_image(runtime_outcomes: dict[str, Any]) -> None:
    # The client sends every parameter it was not given as null (image, seed, size, ...): Ark, and the emulator,
    # serve that body.
    reply = runtime_outcomes["single"]["ok"]
    [image] = reply["data"]
    assert image["size"] == "1024x1024" and reply["usage"]["generated_images"] == 1
    assert evidence(image["url"])["model"] == MODEL


def test_ark_runtime_group_on_an_endpoint_id(runtime_outcomes: dict[str, Any]) -> None:
    reply = runtime_outcomes["group"]["ok"]
    assert reply["model"] == MODEL and len(reply["data"]) == 3


def test_ark_runtime_base64_with_a_reference(runtime_outcomes: dict[str, Any]) -> None:
    [image] = runtime_outcomes["b64"]["ok"]["data"]
    assert image["size"] == "1280x720"
    assert read_metadata(base64.b64decode(image["b64_json"]))["reference_count"] == 1


def test_ark_runtime_streams(runtime_outcomes: dict[str, Any]) -> None:
    events = runtime_outcomes["stream"]["events"]
    assert [event["type"] for event in events] == ["image_generation.partial_succeeded"] * 3 + [
        "image_generation.completed"
    ]
    assert [event["image_index"] for event in events[:3]] == [0, 1, 2]


@pytest.mark.parametrize(
    ("case", "cls", "status", "code"),
    [
        ("bad_size", "ArkBadRequestError", 400, "InvalidParameter"),
        ("wrong_key", "ArkAuthenticationError", 401, "AuthenticationError"),
    ],
)
def test_ark_runtime_raises_typed_errors(
    runtime_outcomes: dict[str, Any], case: str, cls: str, status: int, code: str
) -> None:
    error = runtime_outcomes[case]["error"]
    assert (error["class"], error["status"], error["code"]) == (cls, status, code)


def test_scripts_exist() -> None:
    scripts = Path(__file__).parent / "scripts"
    assert (scripts / "openai_ark.py").exists() and (scripts / "ark_runtime.py").exists()


# --- the OpenAI npm client -----------------------------------------------------------------------------------

OPENAI_JS = "openai@7.55.0"
NODE_CASES = [
    {"name": "group", "body": {"model": MODEL, "prompt": PROMPT, "size": "1K", **GROUP}},
    {"name": "b64", "body": {"model": MODEL, "prompt": "a teapot", "size": "1K", "response_format": "b64_json"}},
    {"name": "bad_size", "body": {"model": MODEL_45, "prompt": "a teapot", "size": "1K"}},
    {"name": "stream", "stream": True, "body": {"model": MODEL, "prompt": PROMPT, "size": "1K", **GROUP}},
]


@pytest.fixture(scope="module")
def node_outcomes(live: LiveEmulator) -> dict[str, Any]:
    try:
        modules = modules_for("openai-7.55.0", OPENAI_JS)
    except npm.NodeUnavailable as error:
        pytest.fail(f"node is needed for the npm client: {error}")
    payload = {"base_url": live.url("ark") + "/api/v3", "key": KEY, "cases": NODE_CASES}
    return run_node(modules, "openai_ark.js", payload, timeout=120)


def test_openai_js_reads_a_group_and_base64(node_outcomes: dict[str, Any]) -> None:
    group = node_outcomes["group"]["ok"]
    assert len(group["data"]) == 3 and group["usage"]["generated_images"] == 3
    assert [evidence(image["url"])["index"] for image in group["data"]] == [0, 1, 2]
    [image] = node_outcomes["b64"]["ok"]["data"]
    assert read_metadata(base64.b64decode(image["b64_json"]))["width"] == 1024


def test_openai_js_raises_arks_error(node_outcomes: dict[str, Any]) -> None:
    error = node_outcomes["bad_size"]["error"]
    assert (error["class"], error["status"], error["code"], error["param"]) == (
        "BadRequestError",
        400,
        "InvalidParameter",
        "size",
    )


def test_openai_js_streams(node_outcomes: dict[str, Any]) -> None:
    events = node_outcomes["stream"]["events"]
    assert [event["type"] for event in events] == ["image_generation.partial_succeeded"] * 3 + [
        "image_generation.completed"
    ]
