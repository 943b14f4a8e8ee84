"""pytest plugin: the `seedream_emulator` fixture, configured by the `seedream` marker.

    @pytest.mark.seedream(timing="instant", faults=[{"action": "error", "status": 429, "times": 1}])
    def test_retries(seedream_emulator):
        client = MyClient(base_url=seedream_emulator.url("runware") + "/v1")

Emulators are shared by tests with the same settings and reset before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

MARKER = "seedream(**settings, faults=[...]): emulator settings (timing, seed, provider, ...) and fault rules for seedream_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


@pytest.fixture(scope="session")
def _seedream_servers() -> Iterator[dict[str, Any]]:
    servers: dict[str, Any] = {}
    yield servers
    for server in servers.values():
        server.close()


@pytest.fixture
def seedream_emulator(request: pytest.FixtureRequest, _seedream_servers: dict[str, Any]) -> Any:
    from .handle import InProcess

    marker = request.node.get_closest_marker("seedream")
    settings = {"timing": "fast", "seed": 0, **(marker.kwargs if marker else {})}
    faults = settings.pop("faults", ())
    key = repr(sorted(settings.items()))
    if key not in _seedream_servers:
        _seedream_servers[key] = InProcess.start(**settings)
    emulator = _seedream_servers[key]
    emulator.reset()
    for rule in faults:
        emulator.add_fault(rule)
    return emulator
