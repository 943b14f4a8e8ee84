"""Every documented EvoLink create limit, probed at its boundaries with hypothesis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from tests.support import DROP, SyncClient, contract_errors

from .conftest import auth, body

examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
RATIOS = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]


@pytest.fixture(scope="module")
def client() -> Iterator[SyncClient]:
    client = SyncClient(create_app(Settings(timing="instant", seed=3)))
    yield client
    client.close()


def send(client: SyncClient, payload: Any) -> tuple[int, dict[str, Any]]:
    response = client.post("/evolink/v1/images/generations", json=payload, headers=auth())
    assert response.status_code < 500, response.text
    reply = response.json()
    assert contract_errors("evolink", "task" if response.status_code == 200 else "error", reply) == []
    return response.status_code, reply


def accepted(client: SyncClient, payload: Any) -> bool:
    status, reply = send(client, payload)
    if status == 200:
        return True
    assert status == 400, reply
    assert reply["error"]["code"] == 400 and reply["error"]["type"] == "invalid_request_error"
    assert reply["error"]["message"].startswith("Invalid request parameters")
    return False


def refused(client: SyncClient, payload: Any) -> dict[str, Any]:
    status, reply = send(client, payload)
    assert status == 400, reply
    return reply["error"]


@examples
@given(length=st.one_of(st.integers(0, 3), st.integers(1995, 2005)), char=st.sampled_from(["a", "é", "🐉"]))
def test_prompt_is_required_and_at_most_2000_characters(client: SyncClient, length: int, char: str) -> None:
    payload = body(prompt=char * length)
    if 1 <= length <= 2000:
        assert accepted(client, payload)
    else:
        error = refused(client, payload)
        assert error["param"] == "prompt" and "2000" in error["message"]


@examples
@given(length=st.integers(1, 2000), char=st.sampled_from(["龍", "東", "한", "の"]))
def test_a_cjk_prompt_is_measured_in_estimated_tokens(client: SyncClient, length: int, char: str) -> None:
    """2000 tokens, not characters: at 1.5 tokens a CJK character, 1333 of them fit and 1334 do not."""
    payload = body(prompt=char * length)
    if length <= 1333:
        assert accepted(client, payload)
    else:
        error = refused(client, payload)
        assert error["param"] == "prompt" and "2000 tokens" in error["message"]


def test_missing_prompt_names_it(client: SyncClient) -> None:
    error = refused(client, body(prompt=DROP))
    assert error["param"] == "prompt" and "'prompt' is required" in error["message"]


@examples
@given(n=st.integers(-3, 18))
def test_n_is_one_to_fifteen(client: SyncClient, n: int) -> None:
    if 1 <= n <= 15:
        assert accepted(client, body(n=n))
    else:
        error = refused(client, body(n=n))
        assert error["param"] == "n" and "between 1 and 15" in error["message"]


@pytest.mark.parametrize("value", [1.5, "2", True, None, [1], {"n": 1}])
def test_n_must_be_an_integer(client: SyncClient, value: Any) -> None:
    assert refused(client, body(n=value))["param"] == "n"


def test_integral_float_n_counts_as_an_integer(client: SyncClient) -> None:
    assert accepted(client, body(n=3.0))


@examples
@given(count=st.integers(0, 17))
def test_image_urls_hold_at_most_fourteen(client: SyncClient, count: int) -> None:
    payload = body(image_urls=[f"https://cdn.example.com/ref-{i}.png" for i in range(count)])
    if count <= 14:
        assert accepted(client, payload)
    else:
        error = refused(client, payload)
        assert error["param"] == "image_urls" and "14" in error["message"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.png", "example.com/a.png", "https://", "https://exa mple.com/a.png", "", 7]
)
def test_image_urls_entries_must_be_http_urls_or_data_uris(client: SyncClient, url: Any) -> None:
    assert refused(client, body(image_urls=[url]))["param"] == "image_urls"


@pytest.mark.parametrize("size", ["auto", *RATIOS])
@pytest.mark.parametrize("quality", ["1K", "2K", "4K", DROP])
def test_every_named_size_and_quality_is_accepted(client: SyncClient, size: str, quality: Any) -> None:
    assert accepted(client, body(size=size, quality=quality))


@pytest.mark.parametrize(
    "field, value",
    [
        ("size", "3:1"),
        ("size", "1:2"),
        ("size", "8K"),
        ("size", "AUTO"),
        ("size", "1024X1024"),
        ("size", "1024*1024"),
        ("size", "01024x1024"),
        ("size", " 1024x1024"),
        ("size", 1024),
        ("size", "-1280x720"),
        ("quality", "8K"),
        ("quality", "2k"),
        ("quality", 2),
        ("prompt_priority", "slow"),
        ("prompt_priority", "Fast"),
        ("prompt_priority", None),
        ("callback_url", "not a url"),
        ("callback_url", 12),
        ("image_urls", "https://a.example/x.png"),
    ],
)
def test_wrong_values_name_their_parameter(client: SyncClient, field: str, value: Any) -> None:
    assert refused(client, body(**{field: value}))["param"] == field


@pytest.mark.parametrize("priority", ["standard", "fast"])
def test_prompt_priority_values(client: SyncClient, priority: str) -> None:
    assert accepted(client, body(prompt_priority=priority))


def pixel_rule(width: int, height: int) -> bool:
    return 921_600 <= width * height <= 16_777_216 and width * 16 >= height and height * 16 >= width


@examples
@given(
    width=st.one_of(st.integers(1, 20_000), st.sampled_from([1280, 960, 4096, 16_384, 240, 1024, 720])),
    height=st.one_of(st.integers(1, 20_000), st.sampled_from([720, 960, 4096, 1024, 3840, 64, 1280])),
)
def test_pixel_sizes_need_921600_to_16777216_pixels_and_aspect_within_16(
    client: SyncClient, width: int, height: int
) -> None:
    payload = body(size=f"{width}x{height}")
    if pixel_rule(width, height):
        assert accepted(client, payload)
    else:
        error = refused(client, payload)
        assert error["param"] == "size" and f"{width}x{height}" in error["message"]


@examples
@given(side=st.integers(900, 4200), delta=st.integers(-2, 2))
def test_pixel_bounds_are_inclusive_around_their_edges(client: SyncClient, side: int, delta: int) -> None:
    """Heights placed just around the pixel bounds for each width, where random sizes rarely land."""
    for bound in (921_600, 16_777_216):
        height = max(1, bound // side + delta)
        assert accepted(client, body(size=f"{side}x{height}")) == pixel_rule(side, height)


@examples
@given(short=st.integers(240, 1100), delta=st.integers(-2, 2), tall=st.booleans())
def test_aspect_bound_is_inclusive_at_one_sixteenth(client: SyncClient, short: int, delta: int, tall: bool) -> None:
    long = short * 16 + delta
    width, height = (short, long) if tall else (long, short)
    assert accepted(client, body(size=f"{width}x{height}")) == pixel_rule(width, height)


@pytest.mark.parametrize("size", ["1280x720", "720x1280", "4096x4096", "3840x240", "240x3840", "16384x1024"])
def test_documented_edges_are_accepted(client: SyncClient, size: str) -> None:
    assert accepted(client, body(size=size))


@pytest.mark.parametrize("size", ["1279x720", "4096x4097", "3841x240", "16385x1024", "1x1"])
def test_just_beyond_the_edges_is_refused(client: SyncClient, size: str) -> None:
    assert refused(client, body(size=size))["param"] == "size"


@examples
@given(length=st.integers(2040, 2056))
def test_callback_url_is_at_most_2048_characters(client: SyncClient, length: int) -> None:
    prefix = "https://hooks.example.com/"
    url = prefix + "a" * (length - len(prefix))
    if length <= 2048:
        assert accepted(client, body(callback_url=url))
    else:
        error = refused(client, body(callback_url=url))
        assert error["param"] == "callback_url" and "2048" in error["message"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
FIELDS = ["model", "prompt", "n", "size", "quality", "prompt_priority", "image_urls", "callback_url"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=JSON)
def test_any_json_body_gets_an_evolink_answer(client: SyncClient, payload: Any) -> None:
    status, _ = send(client, payload)
    assert status in (200, 400, 404)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), JSON, min_size=1, max_size=3))
def test_wrong_types_in_known_fields_are_4xx(client: SyncClient, changes: dict[str, Any]) -> None:
    status, reply = send(client, body(**changes))
    assert status in (200, 400, 404)
    if status != 200:
        assert reply["error"]["param"] in FIELDS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=64))
def test_arbitrary_bytes_are_400(client: SyncClient, raw: bytes) -> None:
    response = client.post("/evolink/v1/images/generations", content=raw, headers=auth())
    assert response.status_code in (200, 400, 404)
    assert contract_errors("evolink", "task" if response.status_code == 200 else "error", response.json()) == []


@pytest.mark.parametrize("size", ["1280.5x720", "1280x720.0", "1e3x1e3", "1280x", "x720", "1280x720x2"])
def test_pixel_sizes_are_whole_numbers(client: SyncClient, size: str) -> None:
    assert refused(client, body(size=size))["param"] == "size"


ANY_TEXT = st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs", "Cs", "Cc"]), max_size=12)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from([*FIELDS, "extra"]), ANY_TEXT, min_size=1, max_size=3))
def test_any_text_in_any_field_even_unpaired_surrogates_is_answered(
    client: SyncClient, changes: dict[str, str]
) -> None:
    raw = json.dumps(body(**changes), ensure_ascii=True).encode()
    response = client.post("/evolink/v1/images/generations", content=raw, headers=auth())
    assert response.status_code in (200, 400, 404), response.text
