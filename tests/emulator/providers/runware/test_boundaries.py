"""The emulator holds Runware tasks to the limits the harness tests: under production rules every boundary's inside
is served with no journal warning and makes the images its contract promises, and every outside is refused."""

from __future__ import annotations

from typing import Any

from contracts.boundaries import example
from contracts.runware import rules
from emulator import read_metadata
from tests.support import task_uuid

from .conftest import Runware, RunwareFactory

BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)


async def send(runware: Runware, task: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    response = await runware.create({**task, "taskUUID": task_uuid()})
    assert response.status_code in (200, 400), response.text
    [entry] = [e for e in runware.entries() if e.route == "POST /v1"][-1:]
    return response.json(), entry


async def test_every_inside_is_served_as_its_contract_says(make_runware: RunwareFactory) -> None:
    runware = await make_runware(strict=True)
    for boundary in rules.boundaries():
        task = {**boundary.apply(BASE, "inside"), "deliveryMethod": "sync", "outputType": "URL"}
        reply, entry = await send(runware, task)
        assert "errors" not in reply, (boundary.name, reply)
        assert (entry.warnings, entry.violations) == ([], []), boundary.name
        assert len(reply["data"]) == rules.image_count(task), boundary.name
        if "/width" in boundary.inside:
            first = read_metadata((await runware.client.get(reply["data"][0]["imageURL"])).content)
            assert (first["width"], first["height"]) == (task["width"], task["height"]), boundary.name
        if "/seed" in boundary.inside:
            assert reply["data"][0]["seed"] == task["seed"], boundary.name


async def test_every_outside_is_refused_naming_a_parameter(make_runware: RunwareFactory) -> None:
    runware = await make_runware(strict=True)
    for boundary in rules.boundaries():
        reply, _ = await send(runware, boundary.apply(BASE, "outside"))
        [error] = reply.get("errors") or [None]
        assert error is not None and error["code"].startswith(("invalid", "unsupported")), (boundary.name, reply)
    assert runware.app.state.emulator.jobs(surface="runware") == []
