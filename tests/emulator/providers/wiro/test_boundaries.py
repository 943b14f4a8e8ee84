"""Every limit of the Wiro contract, as the emulator meets it: the value just inside makes a task that succeeds with
no journal warning, the value just outside is refused (HTTP 200, `result: false`), in a JSON body and as the form
strings a multipart client sends."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.boundaries import Boundary, example
from contracts.fixtures import PLACEHOLDER
from contracts.wiro import rules

from .conftest import Wiro, error_of

BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
BOUNDARIES = {boundary.name: boundary for boundary in rules.boundaries()}
ENCODINGS = ["json", "form"]


def on_emulator(value: Any) -> Any:
    """Fixture placeholders pointed at the test emulator's own /files/ (as the harness session does)."""
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return "http://testserver/files/" + value[len(PLACEHOLDER) :]
    if isinstance(value, list):
        return [on_emulator(item) for item in value]
    return value


async def send(wiro: Wiro, body: dict[str, Any], encoding: str) -> Any:
    body = {name: on_emulator(value) for name, value in body.items()}
    if encoding == "json":
        return await wiro.run(body)
    # Wiro's form: every value a string, inputImage repeated once per entry.
    parts = [(name, (None, str(value))) for name, value in body.items() if name != "inputImage"]
    parts += [("inputImage", (None, url)) for url in body.get("inputImage", [])]
    return await wiro.run(files=parts)


def sides(side: str) -> list[Any]:
    return [
        pytest.param(boundary, encoding, id=f"{boundary.name} {side} {encoding}")
        for boundary in BOUNDARIES.values()
        for encoding in ENCODINGS
        if side == "inside" or boundary.outside is not None
    ]


@pytest.mark.parametrize(("boundary", "encoding"), sides("inside"))
async def test_just_inside_a_limit_the_task_succeeds_without_leniency(
    wiro: Wiro, boundary: Boundary, encoding: str
) -> None:
    response = await send(wiro, boundary.apply(BASE, "inside"), encoding)
    reply = response.json()
    assert reply["result"] is True, reply
    await wiro.runtime.settle()
    task = await wiro.task(reply["taskid"])
    assert (task["status"], task["pexit"]) == ("task_postprocess_end", "0"), task
    assert [entry.warnings for entry in wiro.runtime.journal.entries(surface="wiro") if entry.warnings] == []


@pytest.mark.parametrize(("boundary", "encoding"), sides("outside"))
async def test_just_outside_a_limit_the_run_is_refused(wiro: Wiro, boundary: Boundary, encoding: str) -> None:
    response = await send(wiro, boundary.apply(BASE, "outside"), encoding)
    status, code, _ = error_of(response)
    assert (status, code) == (200, 0)
    assert len(wiro.service.tasks) == 0


def test_the_cross_field_limits_are_named_from_the_rules() -> None:
    limit = rules.RULES["maxReferencesPlusImages"]
    step = rules.RUN["properties"]["maxImages"]["multipleOf"]
    assert {f"/maxImages plus references maximum {limit}", f"/maxImages multipleOf {step}"} <= set(BOUNDARIES)
