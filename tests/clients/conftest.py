"""One real emulator (timing "instant") shared by the client tests, reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.support import WIRO_KEY, WIRO_KEY_ONLY, WIRO_SECRET, Live
from tests.sdk.live import LiveEmulator


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveEmulator]:
    projects = (f"{WIRO_KEY}:{WIRO_SECRET}", f"{WIRO_KEY_ONLY}:unused:keyonly")
    with LiveEmulator(timing="instant", wiro_projects=projects) as server:
        yield server


@pytest.fixture(scope="session")
def other_server() -> Iterator[LiveEmulator]:
    """A second emulator with the non-default settings: fixed keys, string EvoLink codes, Replicate file URLs."""
    with LiveEmulator(
        timing="instant", api_keys=("good-key",), evolink_error_codes="string", replicate_file_output="url"
    ) as server:
        yield server


@pytest.fixture
def other(other_server: LiveEmulator) -> Iterator[Live]:
    handle = Live(other_server)
    handle.reset()
    yield handle
    handle.reset()


@pytest.fixture
def live(live_server: LiveEmulator) -> Iterator[Live]:
    handle = Live(live_server)
    handle.reset()
    yield handle
    handle.reset()
