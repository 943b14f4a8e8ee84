"""Every documented Ark limit, probed at and around its boundaries with hypothesis; malformed input of any shape
gets Ark's 4xx, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.ark import rules
from emulator import Settings, create_app
from tests.support import SyncClient, contract_errors, data_uri

from .conftest import MODEL, MODEL_45, auth, body

examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
FIXTURE = data_uri()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def client() -> Iterator[SyncClient]:
    client = SyncClient(create_app(Settings(timing="instant", seed=3)))
    yield client
    client.close()


def send(client: SyncClient, payload: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/ark/api/v3/images/generations", json=payload, headers=auth())
    assert response.status_code < 500, response.text
    reply = response.json()
    assert contract_errors("ark", "images" if response.status_code == 200 else "error", reply) == []
    return response.status_code, reply


def accepted(client: SyncClient, payload: Any) -> bool:
    status, reply = send(client, payload)
    if status == 200:
        return True
    assert status == 400, reply
    assert reply["error"]["type"] == "BadRequest" and reply["error"]["code"] in ("InvalidParameter", "MissingParameter")
    return False


def within(width: int, height: int, model: str) -> bool:
    limits = rules.FAMILIES[rules.family(model) or "4.0"]
    ratio = Fraction(width, height)
    return limits["minPixels"] <= width * height <= limits["maxPixels"] and Fraction(1, 16) <= ratio <= 16


@examples
@given(
    model=st.sampled_from([MODEL, MODEL_45]),
    width=st.integers(1, 8000) | st.sampled_from([240, 480, 960, 1920, 3840, 4096, 4097, 7680]),
    height=st.integers(1, 8000) | st.sampled_from([240, 480, 959, 960, 1919, 1920, 3840, 4096]),
)
def test_pixel_sizes_follow_each_models_bounds(client: SyncClient, model: str, width: int, height: int) -> None:
    assert accepted(client, body(model=model, size=f"{width}x{height}")) == within(width, height, model)


@examples
@given(size=st.text(max_size=12))
def test_any_other_size_text_is_refused_unless_it_is_a_preset_or_wxh(client: SyncClient, size: str) -> None:
    status, reply = send(client, body(size=size))
    if status == 200:
        assert size in ("1K", "2K", "4K") or "x" in size
    else:
        assert reply["error"]["param"] == "size"


@examples
@given(max_images=st.integers(-5, 40))
def test_max_images_is_1_to_15(client: SyncClient, max_images: int) -> None:
    payload = body(sequential_image_generation="auto", sequential_image_generation_options={"max_images": max_images})
    assert accepted(client, payload) == (1 <= max_images <= 15)


@examples
@given(seed=st.integers(-(2**40), 2**40))
def test_seed_is_minus_1_to_int32_max(client: SyncClient, seed: int) -> None:
    assert accepted(client, body(seed=seed)) == (-1 <= seed <= 2**31 - 1)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 18))
def test_1_to_14_references(client: SyncClient, count: int) -> None:
    assert accepted(client, body(image=[FIXTURE] * count)) == (1 <= count <= 14)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(references=st.integers(1, 14), most=st.integers(1, 15))
def test_references_plus_images_never_exceed_15(client: SyncClient, references: int, most: int) -> None:
    prompt = "a storyboard, generate 15 images"
    payload = body(
        prompt=prompt,
        image=[FIXTURE] * references,
        sequential_image_generation="auto",
        sequential_image_generation_options={"max_images": most},
    )
    status, reply = send(client, payload)
    assert status == 200 and len(reply["data"]) == min(most, 15 - references)


@pytest.mark.parametrize(
    ("width", "height", "fmt", "refused"),
    [
        (15, 15, "PNG", False),
        (14, 15, "PNG", True),
        (16 * 15, 15, "PNG", False),
        (16 * 15 + 1, 15, "PNG", True),
        (64, 48, "JPEG", False),
        (64, 48, "WEBP", False),
    ],
)
def test_reference_files_are_held_to_the_documented_limits(
    client: SyncClient, width: int, height: int, fmt: str, refused: bool
) -> None:
    status, reply = send(client, body(image=data_uri(width, height, fmt)))
    assert (status == 400) == refused, reply
    if refused:
        assert reply["error"]["param"] == "image"


def test_an_unreachable_reference_refuses_the_request(client: SyncClient) -> None:
    status, reply = send(client, body(image="https://nowhere.invalid/a.png"))
    assert status == 400 and reply["error"]["param"] == "image" and "downloaded" in reply["error"]["message"]


def test_a_reference_that_is_not_an_image_is_refused(client: SyncClient) -> None:
    status, reply = send(client, body(image="data:image/png;base64,bm90IGFuIGltYWdl"))
    assert status == 400 and reply["error"]["param"] == "image"


def test_a_public_reference_is_served_with_a_warning() -> None:
    app = create_app(Settings(timing="instant", seed=3))
    with_warning = SyncClient(app)
    try:
        status, _ = send(with_warning, body(image="https://example.com/cat.png"))
        assert status == 200
        [entry] = app.state.emulator.runtime.journal.entries(surface="ark")
        assert any("not downloaded" in warning for warning in entry.warnings)
    finally:
        with_warning.close()


@examples
@given(payload=JSON)
def test_any_json_gets_a_contract_shaped_answer(client: SyncClient, payload: Any) -> None:
    send(client, payload)


@examples
@given(
    fields=st.dictionaries(st.sampled_from(list(body()) + ["image", "stream", "watermark", "response_format"]), JSON)
)
def test_any_value_in_any_field_gets_a_contract_shaped_answer(client: SyncClient, fields: dict[str, Any]) -> None:
    send(client, {**body(), **fields, "stream": False})


@examples
@given(raw=st.binary(max_size=200))
def test_bytes_that_are_not_json_are_invalid_parameter(client: SyncClient, raw: bytes) -> None:
    try:
        json.loads(raw)
    except ValueError:
        pass
    else:
        return
    response = client.post("/ark/api/v3/images/generations", content=raw, headers=auth())
    assert response.status_code == 400
    assert contract_errors("ark", "error", response.json()) == []
