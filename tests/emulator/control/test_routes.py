"""The control API under /_emulator."""

from __future__ import annotations

import asyncio

from emulator.core.clock import ManualClock
from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.runware.conftest import Runware
from tests.support import inference, settle


async def test_faults_can_be_added_listed_and_deleted(emulator: Emulator) -> None:
    rule = {"action": "error", "surface": "runware", "status": 503, "retry_after": 2, "times": 1}
    created = await emulator.client.post("/_emulator/faults", json=rule)
    assert created.status_code == 201
    body = created.json()
    assert body["id"] == "fault_1" and body["match"] == {"surface": "runware"} and body["fired"] == 0
    response = await Runware(emulator).create(inference())
    assert response.status_code == 503 and response.headers["retry-after"] == "2"
    listed = (await emulator.client.get("/_emulator/faults")).json()["faults"]
    assert [(f["id"], f["matched"], f["fired"]) for f in listed] == [("fault_1", 1, 1)]
    assert (await emulator.client.delete("/_emulator/faults/fault_1")).status_code == 204
    assert (await emulator.client.delete("/_emulator/faults/fault_1")).status_code == 404
    await emulator.client.post("/_emulator/faults", json=rule)
    assert (await emulator.client.delete("/_emulator/faults")).json() == {"deleted": 1}


async def test_invalid_rules_are_refused_with_422(emulator: Emulator) -> None:
    response = await emulator.client.post("/_emulator/faults", json={"action": "error", "status": 99})
    assert response.status_code == 422
    assert "status" in response.json()["detail"]
    assert (
        await emulator.client.post("/_emulator/faults", content=b"[]", headers={"Content-Type": "application/json"})
    ).status_code == 422


async def test_jobs_show_state_timeline_and_deliveries(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic")
    task = inference(deliveryMethod="async", webhookURL="https://hooks.example/h")
    await Runware(emulator).create(task)
    listed = (await emulator.client.get("/_emulator/jobs", params={"surface": "runware"})).json()["jobs"]
    assert [(job["id"], job["state"]) for job in listed] == [(task["taskUUID"], "queued")]
    for expected in ("running", "running", "succeeded"):
        advanced = (await emulator.client.post(f"/_emulator/jobs/{task['taskUUID']}/advance")).json()
        assert advanced["state"] == expected
    await settle(50)
    detail = (await emulator.client.get(f"/_emulator/jobs/{task['taskUUID']}")).json()
    assert [event["state"] for event in detail["timeline"] if event["kind"] == "state"] == [
        "queued",
        "running",
        "succeeded",
    ]
    [delivery] = detail["deliveries"]
    assert delivery["url"] == "https://hooks.example/h" and delivery["attempts"][0]["status"] == 200
    assert (await emulator.client.get("/_emulator/jobs/nope")).status_code == 404
    assert (await emulator.client.post("/_emulator/jobs/nope/advance")).status_code == 404


async def test_limits_are_set_per_surface(emulator: Emulator) -> None:
    response = await emulator.client.put("/_emulator/limits/runware", json={"requests_per_minute": 1})
    assert response.json() == {"requests_per_minute": 1, "concurrency": None}
    assert (await emulator.client.get("/_emulator/limits")).json() == {
        "runware": {"requests_per_minute": 1, "concurrency": None}
    }
    assert (await Runware(emulator).create(inference())).status_code == 200
    limited = await Runware(emulator).create(inference())
    assert limited.status_code == 429 and limited.json()["errors"][0]["code"] == "rateLimitExceeded"
    assert (await emulator.client.put("/_emulator/limits/nowhere", json={})).status_code == 404
    assert (await emulator.client.put("/_emulator/limits/runware", json={"concurrency": 0})).status_code == 422
    assert (await emulator.client.put("/_emulator/limits/runware", json={"burst": 3})).status_code == 422


async def test_reset_forgets_faults_but_keeps_limits(emulator: Emulator) -> None:
    await emulator.client.post("/_emulator/faults", json={"action": "error", "status": 500})
    await emulator.client.put("/_emulator/limits/runware", json={"concurrency": 5})
    await emulator.client.post("/_emulator/reset")
    assert (await emulator.client.get("/_emulator/faults")).json() == {"faults": []}
    assert (await emulator.client.get("/_emulator/limits")).json()["runware"]["concurrency"] == 5
    assert (await Runware(emulator).create(inference())).status_code == 200


async def test_journal_filters_by_validity_and_status(emulator: Emulator) -> None:
    await Runware(emulator).create(inference())
    await Runware(emulator).create(inference(numberResults=0))
    invalid = (await emulator.client.get("/_emulator/journal", params={"valid": "false"})).json()["entries"]
    assert [entry["status"] for entry in invalid] == [400]
    ok = (await emulator.client.get("/_emulator/journal", params={"status": 200, "surface": "runware"})).json()[
        "entries"
    ]
    assert len(ok) == 1


async def test_stalled_job_is_reported_and_advanceable(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock)
    await emulator.client.post("/_emulator/faults", json={"action": "stall", "state": "queued"})
    task = inference(deliveryMethod="async")
    await Runware(emulator).create(task)
    clock.advance(10_000)
    [job] = (await emulator.client.get("/_emulator/jobs")).json()["jobs"]
    assert (job["state"], job["stalled"], job["next_step_at"]) == ("queued", True, None)
    await asyncio.gather(*(emulator.client.post(f"/_emulator/jobs/{task['taskUUID']}/advance") for _ in range(3)))
    assert (await emulator.client.get(f"/_emulator/jobs/{task['taskUUID']}")).json()["state"] == "succeeded"


async def test_production_rules_can_be_read_and_switched(emulator: Emulator) -> None:
    assert (await emulator.client.get("/_emulator/policy")).json() == {
        "strict": False,
        "callback_exempt": [],
        "image_count": "prompt",
        "api_keys": [],
    }
    changed = await emulator.client.put(
        "/_emulator/policy",
        json={"strict": True, "callback_exempt": ["http://127.0.0.1:4100/hooks"], "image_count": "max"},
    )
    assert changed.json() == {
        "strict": True,
        "callback_exempt": ["http://127.0.0.1:4100/hooks"],
        "image_count": "max",
        "api_keys": [],
    }
    assert emulator.runtime.targets.strict and emulator.runtime.image_count == "max"
    await emulator.client.post("/_emulator/reset")
    assert (await emulator.client.get("/_emulator/policy")).json()["strict"] is True  # a reset keeps the rules


async def test_a_malformed_policy_is_refused_with_422(emulator: Emulator) -> None:
    for body in (
        {"strict": "yes"},
        {"image_count": "some"},
        {"callback_exempt": "http://x"},
        {"colour": "red"},
        {"api_keys": "k"},
        {"api_keys": [1]},
    ):
        assert (await emulator.client.put("/_emulator/policy", json=body)).status_code == 422, body
    assert (await emulator.client.get("/_emulator/policy")).json()["strict"] is False


async def test_api_keys_can_be_narrowed_while_the_emulator_runs(emulator: Emulator) -> None:
    assert (await Runware(emulator).create(inference(), key="any-key")).status_code == 200
    await emulator.client.put("/_emulator/policy", json={"api_keys": ["the-key"]})
    assert (await Runware(emulator).create(inference(), key="any-key")).status_code == 401
    assert (await Runware(emulator).create(inference(), key="the-key")).status_code == 200
    await emulator.client.put("/_emulator/policy", json={"api_keys": []})
    assert (await Runware(emulator).create(inference(), key="any-key")).status_code == 200
