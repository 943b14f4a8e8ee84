"""The reliability audit's "no 5xx" findings, end to end on every surface (R1, R2, R5; R3 and R6 are Replicate's,
R4 the control plane's): values nothing can represent are refused at the door, and an injected status a provider
documents no body for is answered in the surface's generic shape, never with the emulator's words."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import websockets

from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.faults.drivers import DRIVERS, Driver
from tests.sdk.live import LiveEmulator

HUGE_RETRY = "[[emulator:error=429;retry-after=" + "9" * 400 + "s]]"
# What no provider's error text may say: the emulator's own words, or the injected status.
INTERNAL = ("emulator", "HTTP", "418", "499", "599")
# A task's UUID is random hex and may hold "599"; it is an identifier, not words.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def texts(body: Any) -> str:
    """The words of an error body (its messages, titles, details), not its numbers: problem+json's `status` and
    EvoLink's integer `code` carry the status by design."""
    if isinstance(body, dict):
        return " ".join(texts(value) for key, value in body.items() if key not in ("status", "code"))
    if isinstance(body, list):
        return " ".join(texts(item) for item in body)
    return UUID.sub("", body) if isinstance(body, str) else ""


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest, emulator: Emulator) -> Driver:
    return DRIVERS[request.param](emulator.client)


async def test_r1_a_directive_value_beyond_its_bound_never_becomes_a_500(emulator: Emulator, driver: Driver) -> None:
    reply, _ = await driver.submit(f"a dragon {HUGE_RETRY}")
    assert reply.status < 500 and not driver.is_error(reply), reply.body
    [entry] = [e for e in emulator.runtime.journal.entries(surface=driver.surface) if e.method == "POST"]
    assert any("retry_after must be" in note and "between 0 and 86400" in note for note in entry.notes), entry.notes


async def test_r2_an_unrepresentable_rule_is_refused_and_the_surfaces_stay_well(
    emulator: Emulator, driver: Driver
) -> None:
    for rule in (
        b'{"action": "error", "status": 429, "retry_after": 1e308}',
        b'{"action": "error", "status": 429, "retry_after": 1e400}',
        b'{"action": "latency", "seconds": -1}',
        b'{"action": "latency", "seconds": NaN}',
    ):
        refused = await emulator.client.post(
            "/_emulator/faults", content=rule, headers={"Content-Type": "application/json"}
        )
        assert refused.status_code == 422, (rule, refused.text)
    assert (await emulator.client.get("/_emulator/faults")).json() == {"faults": []}
    reply, _ = await driver.submit()
    assert reply.status < 300 and not driver.is_error(reply)


@pytest.mark.parametrize("status", [418, 499])
async def test_r5_an_undocumented_client_error_is_the_surfaces_generic_one(
    emulator: Emulator, driver: Driver, status: int
) -> None:
    emulator.app.state.emulator.add_fault(action="error", surface=driver.surface, status=status)
    reply, _ = await driver.submit()
    assert reply.status == status and driver.is_error(reply), reply.body
    assert not any(word in texts(reply.body) for word in INTERNAL), reply.body
    assert "internal" not in texts(reply.body).lower(), "a client error does not read as a server error"


async def test_r5_an_undocumented_server_error_is_the_surfaces_generic_one(emulator: Emulator, driver: Driver) -> None:
    emulator.app.state.emulator.add_fault(action="error", surface=driver.surface, status=599)
    reply, _ = await driver.submit()
    assert reply.status == 599 and driver.is_error(reply), reply.body
    assert not any(word in texts(reply.body) for word in INTERNAL), reply.body


@pytest.fixture
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="instant") as server:
        yield server


async def test_r5_the_audits_runware_frame(live: LiveEmulator) -> None:
    """A frame with a task lacking `model` and carrying an unknown key, with an injected 418 in force: the reply
    was `internalServerError` "The request failed with HTTP 418."."""
    live.app.state.emulator.add_fault(action="error", surface="runware", status=418)
    async with websockets.connect(f"{live.ws_base}/runware/v1") as socket:
        await socket.send(json.dumps([{"taskType": "authentication", "apiKey": "k"}]))
        await socket.recv()
        await socket.send(json.dumps([{"taskType": "imageInference", "positivePrompt": "a cat", "4K": 1}]))
        frame: dict[str, Any] = json.loads(await socket.recv())
    [error] = frame["errors"]
    assert error["code"] == "invalidRequest"
    assert not any(word in error["message"] for word in INTERNAL), error


async def test_r5_injected_bodies_are_documented(make_emulator: EmulatorFactory) -> None:
    """A status a provider documents keeps its documented body; only the others fall back to the generic one."""
    emulator = await make_emulator()
    emulator.app.state.emulator.add_fault(action="error", surface="runware", status=504, times=1)
    reply, _ = await DRIVERS["runware"](emulator.client).submit()
    assert reply.body["errors"][0]["code"] == "timeoutProvider"
