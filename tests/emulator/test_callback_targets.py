"""Every surface applies one callback rule: strict refuses plain-HTTP and internal targets in any spelling,
lenient serves them with a journal warning, and exempt prefixes pass silently."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.runware.conftest import Runware
from tests.emulator.providers.wiro.conftest import signed_headers
from tests.support import inference

BEARER = {"Authorization": "Bearer test-key"}


async def create(emulator: Emulator, surface: str, url: str) -> httpx.Response:
    client = emulator.client
    if surface == "runware":
        return await Runware(emulator).create(inference(webhookURL=url, deliveryMethod="async"))
    if surface == "wiro":
        form = {"prompt": "a lighthouse", "callbackUrl": url}
        return await client.post("/wiro/v1/Run/bytedance/seedream-v4", data=form, headers=signed_headers())
    if surface == "evolink":
        body: dict[str, Any] = {"model": "doubao-seedream-4.0", "prompt": "a lighthouse", "callback_url": url}
        return await client.post("/evolink/v1/images/generations", json=body, headers=BEARER)
    body = {"input": {"prompt": "a lighthouse"}, "webhook": url}
    return await client.post("/replicate/v1/models/bytedance/seedream-4/predictions", json=body, headers=BEARER)


def refused(surface: str, response: httpx.Response) -> bool:
    if surface == "wiro" and response.status_code == 200:
        return response.json().get("result") is False
    return 400 <= response.status_code < 500


def last_entry(emulator: Emulator, surface: str) -> Any:
    return [entry for entry in emulator.runtime.journal.entries(surface=surface)][-1]


SURFACES = ["runware", "wiro", "evolink", "replicate"]


def _spell(address: ipaddress.IPv4Address | ipaddress.IPv6Address, style: int) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return f"[{address}]"
    value = int(address)
    return [str(address), str(value), hex(value), f"[::ffff:{address}]", f"{value >> 24}.{value & 0xFFFFFF}"][style]


internal_hosts = st.one_of(
    st.builds(_spell, st.integers(0x7F000000, 0x7FFFFFFF).map(ipaddress.IPv4Address), st.integers(0, 4)),
    st.builds(_spell, st.integers(0x0A000000, 0x0AFFFFFF).map(ipaddress.IPv4Address), st.integers(0, 4)),
    st.builds(_spell, st.integers(0xA9FE0000, 0xA9FEFFFF).map(ipaddress.IPv4Address), st.integers(0, 4)),
    st.just("[::1]"),
    st.sampled_from(["localhost", "api.localhost", "metadata.google.internal"]),
)


@pytest.mark.parametrize("surface", SURFACES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=internal_hosts)
async def test_strict_refuses_internal_targets_however_spelled(
    make_emulator: EmulatorFactory, surface: str, host: str
) -> None:
    emulator = await make_emulator(strict=True)
    response = await create(emulator, surface, f"https://{host}/hook")
    assert refused(surface, response), (host, response.status_code, response.text)


@pytest.mark.parametrize("surface", SURFACES)
async def test_strict_refuses_plain_http_to_a_public_host(make_emulator: EmulatorFactory, surface: str) -> None:
    emulator = await make_emulator(strict=True)
    response = await create(emulator, surface, "http://hooks.example.com/seedream")
    assert refused(surface, response), response.text


@pytest.mark.parametrize("surface", SURFACES)
async def test_lenient_serves_with_a_warning_the_harness_can_count(
    make_emulator: EmulatorFactory, surface: str
) -> None:
    emulator = await make_emulator()
    response = await create(emulator, surface, "http://127.1:9000/hook")
    assert not refused(surface, response), response.text
    warnings = last_entry(emulator, surface).warnings
    assert any("not HTTPS" in warning for warning in warnings) and any(
        "internal host" in warning for warning in warnings
    )


@pytest.mark.parametrize("surface", SURFACES)
async def test_an_exempt_receiver_is_served_silently_even_when_strict(
    make_emulator: EmulatorFactory, surface: str
) -> None:
    emulator = await make_emulator(strict=True, callback_exempt=("http://127.0.0.1:4100/hooks",))
    response = await create(emulator, surface, "http://127.0.0.1:4100/hooks")
    assert not refused(surface, response), response.text
    assert last_entry(emulator, surface).warnings == []


@pytest.mark.parametrize("surface", SURFACES)
async def test_a_public_https_target_is_served_silently_when_strict(
    make_emulator: EmulatorFactory, surface: str
) -> None:
    emulator = await make_emulator(strict=True)
    response = await create(emulator, surface, "https://hooks.example.com/seedream")
    assert not refused(surface, response), response.text
    assert last_entry(emulator, surface).warnings == []
