"""Cancel-After deadlines (canceled, or the spec-true aborted), data removal after an hour."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from contracts.replicate import rules
from emulator.core.clock import ManualClock
from tests.support import contract_errors, drive

from .conftest import Replicate, ReplicateFactory


async def test_cancel_after_sets_the_deadline(make_replicate: ReplicateFactory, clock: ManualClock) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    created = (await replicate.create({"size": "1K"}, headers={"Cancel-After": "1m30s"})).json()
    assert created["status"] == "starting"
    created_at, deadline = (datetime.fromisoformat(created[key]) for key in ("created_at", "deadline"))
    assert (deadline - created_at).total_seconds() == 90
    assert (await replicate.prediction(created["id"]))["deadline"] == created["deadline"]


async def test_cancel_after_expiring_while_processing_cancels(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    created = (
        await replicate.create(
            {"size": "4K", "sequential_image_generation": "auto", "max_images": 15}, headers={"Cancel-After": "5"}
        )
    ).json()
    await drive(clock, lambda: False, step=0.5, limit=6)
    body = await replicate.prediction(created["id"])
    assert body["status"] == "canceled"
    assert body["started_at"] and body["error"] is None
    assert datetime.fromisoformat(body["completed_at"]) == datetime.fromisoformat(body["deadline"])


@pytest.mark.parametrize(("emit_aborted", "status"), [(False, "canceled"), (True, "aborted")])
async def test_deadline_passing_in_the_queue(
    make_replicate: ReplicateFactory, clock: ManualClock, emit_aborted: bool, status: str
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic", replicate_emit_aborted=emit_aborted)
    replicate.runtime.timing = replace(replicate.runtime.timing, queue_delay=60.0)  # a long queue
    created = (await replicate.create({"size": "1K"}, headers={"Cancel-After": "5s"})).json()
    await drive(clock, lambda: False, step=0.5, limit=6)
    body = await replicate.prediction(created["id"])
    assert body["status"] == status
    assert "started_at" not in body and body["output"] is None
    assert contract_errors("replicate", "prediction", body) == []
    clock.advance(120)
    assert (await replicate.prediction(created["id"]))["status"] == status, "it never starts afterwards"


@pytest.mark.parametrize("value", ["4s", "1x", "soon", "-5", "5 s", "31536001", "99999999999999999999h", "9" * 400])
async def test_invalid_cancel_after_is_400(replicate: Replicate, value: str) -> None:
    response = await replicate.create(headers={"Cancel-After": value})
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Cancel-After header"
    assert "5 to 31536000 seconds" in response.json()["detail"]


async def test_the_longest_cancel_after_is_a_deadline_a_timestamp_holds(replicate: Replicate) -> None:
    """Reliability audit R6: `Cancel-After: 99999999999999999999h` overflowed the deadline's timestamp into a 500;
    and R3: the prediction had been stored before that, so every later list asserted. The bound is refused at the
    door, the longest accepted one is written, and the list stays whole."""
    longest = f"{rules.RULES['cancelAfter']['maximumSeconds']}s"
    created = await replicate.create({"size": "1K"}, headers={"Cancel-After": longest})
    assert created.status_code == 201 and created.json()["deadline"].endswith("Z")
    assert (await replicate.create(headers={"Cancel-After": "99999999999999999999h"})).status_code == 400
    listed = await replicate.get("predictions")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["results"]] == [created.json()["id"]]


async def test_a_create_that_fails_half_way_leaves_nothing_for_the_list(
    replicate: Replicate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reliability audit R3: a prediction was stored before its start could fail, so the list met one without a job
    and asserted (500, 61 times). Now it is stored only once its job runs: whatever fails before leaves nothing."""
    views = replicate.app.state.emulator.surface("replicate").service.predictions.views

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug while starting")

    monkeypatch.setattr(views, "starting", broken)
    assert (await replicate.create({"size": "1K"})).status_code == 500
    monkeypatch.undo()
    listed = await replicate.get("predictions")
    assert listed.status_code == 200 and listed.json()["results"] == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5", 5), ("30s", 30), ("5m", 300), ("1h30m45s", 5445), ("1500ms", None), ("8760h", 31536000), ("8761h", None)],
)
def test_cancel_after_durations(value: str, seconds: float | None) -> None:
    if seconds is None:
        with pytest.raises(ValueError):
            rules.parse_cancel_after(value)
    else:
        assert rules.parse_cancel_after(value) == seconds


async def test_input_and_output_are_removed_after_an_hour(make_replicate: ReplicateFactory, clock: ManualClock) -> None:
    replicate = await make_replicate(clock=clock)
    done = await replicate.run({"size": "1K"})
    clock.advance(rules.RULES["dataRemovalSeconds"] - 1)
    assert (await replicate.prediction(done["id"]))["data_removed"] is False
    clock.advance(1)
    body = await replicate.prediction(done["id"])
    assert body["data_removed"] is True
    assert body["output"] is None and body["input"] == {}
    assert body["status"] == "succeeded"


async def test_job_retention_bounds_the_predictions_kept(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(job_retention=3)
    ids = [(await replicate.run({"size": "1K"}))["id"] for _ in range(5)]
    assert [(await replicate.get(f"predictions/{i}")).status_code for i in ids] == [404, 404, 200, 200, 200]


async def test_predictions_still_running_outlive_the_retention(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic", job_retention=2)
    ids = [(await replicate.create({"size": "1K"})).json()["id"] for _ in range(3)]
    assert [(await replicate.prediction(i))["status"] for i in ids] == ["starting"] * 3
