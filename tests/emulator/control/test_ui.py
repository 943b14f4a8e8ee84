"""The dashboard's server side: what it ships, who may load it, and the JSON only it reads."""

from __future__ import annotations

import re
from importlib.resources import files

import httpx
import pytest

from contracts.surfaces import SURFACES
from emulator import Settings, create_app
from emulator.control.snippets import SNIPPETS, Address
from tests.conftest import Emulator
from tests.emulator.providers.runware.conftest import Runware
from tests.support import inference

STATIC = files("emulator.control") / "static"


def client_for(base: str = "http://127.0.0.1:8000", **settings: object) -> httpx.AsyncClient:
    app = create_app(Settings(timing="instant", seed=1, **settings))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base)


async def test_the_page_and_its_files_are_served_with_a_strict_policy() -> None:
    async with client_for() as client:
        moved = await client.get("/_emulator/ui")
        assert moved.status_code == 307 and moved.headers["location"] == "ui/"  # relative: any prefix holds
        page = await client.get("/_emulator/ui/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
        for name in re.findall(r'(?:src|href)="static/([^"]+)"', page.text):
            shipped = await client.get(f"/_emulator/ui/static/{name}")
            assert shipped.status_code == 200 and shipped.content == (STATIC / name).read_bytes()
        for wrong in ("nope.js", "..%2Fui.py", "..%2F..%2Fapp.py"):
            assert (await client.get(f"/_emulator/ui/static/{wrong}")).status_code == 404


def test_the_page_uses_no_other_origin_and_never_parses_markup_from_data() -> None:
    """No CDN (the emulator works offline) and no innerHTML: client data only ever reaches the page as text."""
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC / name).read_text()
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text), name
        assert "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "eval(" not in text and "document.write" not in text, name


async def test_the_dashboard_is_under_the_control_guard() -> None:
    async with client_for() as client:
        assert (await client.get("/_emulator/ui/", headers={"Host": "evil.example"})).status_code == 403
        rebound = {"Host": "evil.example", "Origin": "http://evil.example"}
        assert (await client.get("/_emulator/ui/api/start", headers=rebound)).status_code == 403
        assert (
            await client.get("/_emulator/ui/api/start", headers={"Origin": "http://evil.example"})
        ).status_code == 403


async def test_behind_a_public_url_the_pages_own_origin_may_drive_it_and_no_other() -> None:
    async with client_for("https://emulator.example", public_url="https://emulator.example") as client:
        own = {"Origin": "https://emulator.example"}
        rule = {"action": "error", "status": 503}
        assert (await client.post("/_emulator/faults", json=rule, headers=own)).status_code == 201
        other = {"Origin": "https://evil.example"}
        assert (await client.post("/_emulator/faults", json=rule, headers=other)).status_code == 403


async def test_with_a_token_only_the_data_free_shell_is_served_without_it() -> None:
    async with client_for(control_token="t0ken") as client:
        assert (await client.get("/_emulator/ui/")).status_code == 200
        assert (await client.get("/_emulator/ui/static/app.js")).status_code == 200
        assert (await client.get("/_emulator/ui/api/start")).status_code == 401
        assert (await client.get("/_emulator/journal")).status_code == 401
        assert (await client.post("/_emulator/ui/static/app.js")).status_code == 401
        authorized = {"Authorization": "Bearer t0ken"}
        assert (await client.get("/_emulator/ui/api/start", headers=authorized)).status_code == 200


@pytest.mark.parametrize("provider", ["all", "evolink"])
async def test_start_here_names_each_surface_at_this_emulators_address(provider: str) -> None:
    async with client_for(provider=provider, api_keys=("team-key",)) as client:
        start = (await client.get("/_emulator/ui/api/start")).json()
    assert start["base"] == "http://127.0.0.1:8000" and start["any_key"] is False
    for surface in start["surfaces"]:
        root = "http://127.0.0.1:8000" + ("" if provider != "all" else f"/{surface['name']}")
        assert surface["base"] == root
        assert all(url.replace("ws://", "http://").startswith(root) for _, url in surface["endpoints"])
        for snippet in surface["snippets"]:
            assert root in snippet["code"] or f"/openapi/{surface['name']}.json" in snippet["code"]
        if surface["name"] in ("runware", "evolink", "replicate"):
            assert all("team-key" in snippet["code"] for snippet in surface["snippets"])


def test_the_four_quickstart_surfaces_have_a_curl_and_a_client_snippet() -> None:
    assert set(SNIPPETS) <= set(SURFACES)
    for name in ("runware", "wiro", "evolink", "replicate"):
        address = Address("http://127.0.0.1:8000/x", "k", "wk", "ws")
        assert [snippet.language for snippet in SNIPPETS[name](address)] == ["sh", "python"]


async def test_a_job_shows_its_model_and_images_with_their_evidence(emulator: Emulator) -> None:
    task = inference(numberResults=2)
    assert (await Runware(emulator).create(task)).status_code == 200
    job = (await emulator.client.get(f"/_emulator/ui/api/jobs/{task['taskUUID']}")).json()
    assert job["model"] == "bytedance:5@0" and job["state"] == "succeeded"
    assert [image["index"] for image in job["images"]] == [0, 1]
    for image in job["images"]:
        assert image["metadata"]["job_id"] == task["taskUUID"] and image["metadata"]["emulator"]
        assert (await emulator.client.get(image["url"])).status_code == 200
    assert (await emulator.client.get("/_emulator/ui/api/jobs/nope")).status_code == 404
