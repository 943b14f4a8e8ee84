"""The short self-fuzz: a few hundred Schemathesis cases, raw hypothesis bodies and socket frames per surface
against a real server, on every run. Any 5xx (or internal-error frame) or dropped connection fails, naming its
reproducer. `python -m bench.fuzz` is the long version (>= 10,000 per surface, with figures)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bench.fuzz import SURFACES, Server, fuzz, render, server_thread

REQUESTS = 300
# A small body limit keeps the oversized frames cheap.
MAX_BODY_MB = 1


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = server_thread(max_body_mb=MAX_BODY_MB)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("surface", SURFACES)
def test_no_server_error_and_no_dropped_connection(server: Server, surface: str) -> None:
    report = fuzz(server, requests_per_surface=REQUESTS, surfaces=(surface,), fixed=True, max_body_mb=MAX_BODY_MB)
    assert report.tally.total(surface) >= REQUESTS
    assert report.server_errors == 0 and report.dropped == 0, render(report, (surface,))


def test_a_server_error_and_a_dropped_connection_are_counted_and_named(server: Server) -> None:
    """The fuzz's own check: a 5xx and a reset connection (here injected by fault rules) fail it with reproducers."""
    faults = f"{server.base}/_emulator/faults"
    rules: list[dict[str, Any]] = [
        {"action": "error", "surface": "evolink", "route": "POST *", "status": 503, "times": 2},
        {"action": "disconnect", "surface": "evolink", "route": "POST *", "disconnect": "reset", "nth": 5},
    ]
    for rule in rules:
        requests.post(faults, json=rule, timeout=10).raise_for_status()
    try:
        report = fuzz(server, requests_per_surface=40, surfaces=("evolink",), fixed=True)
    finally:
        requests.delete(faults, timeout=10).raise_for_status()
    assert (report.server_errors, report.dropped) == (2, 1)
    text = render(report, ("evolink",))
    assert "server error (503" in text and "dropped (dropped" in text and "POST http://127.0.0.1" in text
