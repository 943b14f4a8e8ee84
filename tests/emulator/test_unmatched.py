"""A path no route pattern can match (route patterns stop at a line break) still gets the provider's not-found
(found by bench/fuzz.py: `GET /evolink/v1/tasks/%23%C3%91T%C2%9C%0A%C3%88` answered Starlette's text/plain 404)."""

from __future__ import annotations

import pytest

from tests.conftest import Emulator, EmulatorFactory

NOT_FOUND = {
    "runware": lambda body: body["errors"][0]["code"] == "notFound",
    "wiro": lambda body: body["result"] is False and body["errors"][0]["code"] == 0,
    "evolink": lambda body: body["error"]["type"] == "not_found_error",
    "replicate": lambda body: body["status"] == 404,
}


@pytest.mark.parametrize("surface", sorted(NOT_FOUND))
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_a_line_break_in_the_path_is_the_surfaces_not_found(
    emulator: Emulator, surface: str, method: str
) -> None:
    response = await emulator.client.request(
        method, f"/{surface}/v1/tasks/a%0Ab", headers={"Authorization": "Bearer k"}
    )
    assert response.status_code == 404
    assert response.headers["content-type"].split(";")[0] in ("application/json", "application/problem+json")
    assert NOT_FOUND[surface](response.json()), response.text
    [entry] = emulator.runtime.journal.entries()[-1:]
    assert entry.surface == surface


async def test_outside_every_surface_it_is_the_emulators_not_found(emulator: Emulator) -> None:
    response = await emulator.client.get("/nowhere%0A")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


async def test_with_one_surface_at_the_root_it_is_that_surfaces(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(provider="replicate")
    response = await emulator.client.get("/v1/files/a%0Ab", headers={"Authorization": "Bearer k"})
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
