"""The `seedream_emulator` fixture and `seedream` marker, as a client project's tests use them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from conformance.handle import InProcess
from contracts.surfaces import SURFACES

TASK = {
    "taskType": "imageInference",
    "taskUUID": "6f1c0b6e-4d5e-4c8a-9d7e-0b1c2d3e4f50",
    "model": "bytedance:5@0",
    "positivePrompt": "a lighthouse",
    "width": 2048,
    "height": 2048,
}


def create(emulator: InProcess) -> httpx.Response:
    return httpx.post(emulator.url("runware") + "/v1", json=[TASK], headers={"Authorization": "Bearer k"}, timeout=10)


def test_fixture_serves_every_surface(seedream_emulator: InProcess) -> None:
    health = httpx.get(seedream_emulator.base + "/_emulator/health").json()
    assert set(health["surfaces"]) == set(SURFACES)
    assert health["timing"] == "fast"
    assert create(seedream_emulator).status_code == 200
    assert [entry["route"] for entry in seedream_emulator.journal()] == ["POST /v1"]


def test_each_test_starts_clean(seedream_emulator: InProcess) -> None:
    assert seedream_emulator.journal() == [] and seedream_emulator.jobs() == []


@pytest.mark.seedream(timing="instant", faults=[{"action": "error", "status": 429, "retry_after": 2, "times": 1}])
def test_marker_sets_timing_and_faults(seedream_emulator: InProcess) -> None:
    refused = create(seedream_emulator)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    assert create(seedream_emulator).status_code == 200
    assert [job["state"] for job in seedream_emulator.jobs("runware")] == ["succeeded"]


@pytest.mark.seedream(provider="evolink")
def test_single_provider_serves_at_the_root(seedream_emulator: InProcess) -> None:
    assert seedream_emulator.url("evolink") == seedream_emulator.base
    reply = httpx.post(
        seedream_emulator.base + "/v1/images/generations",
        json={"model": "doubao-seedream-4.0", "prompt": "p"},
        headers={"Authorization": "Bearer k"},
    )
    assert reply.status_code == 200 and reply.json()["status"] == "pending"


def test_recorded_traffic_is_visible(seedream_emulator: InProcess) -> None:
    mark = seedream_emulator.mark()
    create(seedream_emulator)
    [exchange] = seedream_emulator.exchanges(mark)
    assert (exchange.method, exchange.path, exchange.status) == ("POST", "/runware/v1", 200)


def test_installed_plugin_reaches_a_client_project(tmp_path: Path) -> None:
    (tmp_path / "test_client.py").write_text(
        textwrap.dedent("""
        import httpx, pytest

        @pytest.mark.seedream(timing="instant")
        def test_generate(seedream_emulator):
            url = seedream_emulator.url("replicate") + "/v1/models/bytedance/seedream-4/predictions"
            reply = httpx.post(url, json={"input": {"prompt": "p"}}, headers={"Authorization": "Bearer r8_x", "Prefer": "wait"})
            assert reply.json()["status"] == "succeeded"
    """)
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "1 passed" in done.stdout, done.stdout + done.stderr
