"""The surfaces' OpenAPI documents as the emulator publishes them: served under /_emulator, written by the CLI, and
describing exactly the routes each surface serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route, WebSocketRoute

from contracts import openapi
from emulator.cli import main
from tests.conftest import Emulator, EmulatorFactory

PROVIDERS = openapi.providers()
# How each surface refuses a method its path does not serve: Wiro answers every wrong call "Error parsing url."
WRONG_METHOD = {"runware": 405, "wiro": 404, "evolink": 405, "replicate": 405, "ark": 405, "fal": 405}
AUTH = {"Authorization": "Bearer k", "x-api-key": "wiro-dev-key"}


def template(path: str) -> str:
    """A path with its parameters unnamed: `/v1/tasks/{task_id}` -> `/v1/tasks/{}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "x", path)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_served_under_the_control_plane_with_this_emulators_url(emulator: Emulator, provider: str) -> None:
    response = await emulator.client.get(f"/_emulator/openapi/{provider}.json")
    assert response.status_code == 200
    document = response.json()
    assert document == openapi.document(provider, f"http://testserver/{provider}")


async def test_a_single_surface_is_described_at_the_root(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(provider="evolink", public_url="https://emulator.example")
    document = (await emulator.client.get("/_emulator/openapi/evolink.json")).json()
    assert document["servers"] == [{"url": "https://emulator.example"}]
    assert (await emulator.client.get("/_emulator/openapi/runware.json")).status_code == 404
    assert (await emulator.client.get("/_emulator/openapi/nowhere.json")).status_code == 404


async def test_the_document_keeps_the_control_planes_guard(emulator: Emulator) -> None:
    refused = await emulator.client.get("/_emulator/openapi/runware.json", headers={"Origin": "http://evil.example"})
    assert refused.status_code == 403


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_every_route_served_is_documented(emulator: Emulator, provider: str) -> None:
    """Each HTTP route of the surface is a documented path, each WebSocket a documented channel; each documented
    operation reaches the route of that name (the journal says which); every other method is refused."""
    document = openapi.document(provider)
    surface = emulator.app.state.emulator.surface(provider)
    documented = {template(path) for path in document["paths"]}
    channels = {channel["path"] for channel in document.get("x-websockets", [])}
    for route in surface.routes:
        if isinstance(route, WebSocketRoute):
            assert route.path in channels, route.path
        elif isinstance(route, Route) and route.path != "/{path:path}":  # the fallback: the provider's not-found
            assert template(route.path) in documented, route.path
    for path, methods in document["paths"].items():
        url = f"/{provider}{concrete(path)}"
        for method in methods:
            await emulator.client.request(method.upper(), url, headers=AUTH, content=b"{}")
            entry = emulator.runtime.journal.entries()[-1]
            assert entry.route == f"{method.upper()} {path}", (method, path)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            if method.lower() in methods:
                continue
            response = await emulator.client.request(method, url, headers=AUTH)
            assert response.status_code == WRONG_METHOD[provider], (method, path, response.text)


def test_the_cli_writes_a_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "wiro.json"
    assert main(["openapi", "--provider", "wiro", "--out", str(out), "--server", "http://h:1/wiro"]) == 0
    written: dict[str, Any] = json.loads(out.read_text())
    assert written == openapi.document("wiro", "http://h:1/wiro")
    assert main(["openapi", "--provider", "replicate"]) == 0
    assert json.loads(capsys.readouterr().out)["servers"] == [{"url": "http://127.0.0.1:8000/replicate"}]
    assert main(["openapi", "--provider", "evolink", "--out", str(tmp_path / "missing" / "x.json")]) == 2
