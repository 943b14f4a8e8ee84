"""Creating, reading and canceling predictions: envelope, lifecycle, sync waits."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import pytest

from contracts import counts
from contracts.replicate import rules
from emulator.core.clock import ManualClock
from tests.support import contract_errors, settle

from .conftest import AUTH, Replicate, ReplicateFactory, metadata, output_metadata

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


async def test_async_create_returns_a_starting_prediction(replicate: Replicate) -> None:
    response = await replicate.create({"size": "1K"})
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert contract_errors("replicate", "prediction", body) == []
    assert re.fullmatch(r"[0-9a-z]{26}", body["id"])
    assert (body["model"], body["version"], body["status"]) == ("bytedance/seedream-4", "hidden", "starting")
    assert body["input"] == {"prompt": "a red fox in fresh snow", "size": "1K"}, "input is echoed, no defaults added"
    assert (body["output"], body["error"], body["logs"], body["data_removed"]) == (None, None, "", False)
    assert "started_at" not in body and "completed_at" not in body and "metrics" not in body
    assert RFC3339_Z.match(body["created_at"])
    base = f"http://testserver/v1/predictions/{body['id']}"
    assert body["urls"] == {"get": base, "cancel": base + "/cancel", "web": f"http://testserver/p/{body['id']}"}
    assert response.headers["location"] == base
    assert "preference-applied" not in response.headers


async def test_urls_carry_the_mount_prefix_when_every_surface_is_served(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(provider="all")
    body = (await replicate.create()).json()
    assert body["urls"]["get"] == f"http://testserver/replicate/v1/predictions/{body['id']}"
    assert (await replicate.get(body["urls"]["get"])).json()["id"] == body["id"]


async def test_public_url_is_the_base_of_every_url(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(public_url="https://emulator.example:9443")
    body = await replicate.run()
    assert body["urls"]["get"].startswith("https://emulator.example:9443/v1/predictions/")
    assert body["output"][0].startswith("data:image/jpeg;base64,"), "small sync outputs are inlined"
    polled = await replicate.prediction(body["id"])
    assert polled["output"][0].startswith("https://emulator.example:9443/files/tmp")
    assert polled["output"][0].endswith(".jpg")


async def test_polling_walks_starting_processing_succeeded_with_growing_logs(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    prompt = counts.ask("a red fox in fresh snow", 3)
    input_ = {"prompt": prompt, "size": "1K", "sequential_image_generation": "auto", "max_images": 5}
    created = (await replicate.create(input_)).json()
    seen: list[tuple[str, str]] = []
    for _ in range(200):
        body = await replicate.prediction(created["id"])
        if not seen or seen[-1] != (body["status"], body["logs"]):
            seen.append((body["status"], body["logs"]))
        if body["status"] == "succeeded":
            break
        clock.advance(0.25)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "starting" and statuses[-1] == "succeeded"
    assert "processing" in statuses
    assert [s for s in dict.fromkeys(statuses)] == ["starting", "processing", "succeeded"]
    logs = [log for _, log in seen]
    assert all(later.startswith(earlier) for earlier, later in zip(logs, logs[1:], strict=False)), "logs only grow"
    assert len(set(logs)) >= 4, "each finished image adds a log line"
    assert "100%|██████████| 3/3" in logs[-1]
    final = await replicate.prediction(created["id"])
    assert len(final["output"]) == 3, "the model made what the prompt asked for, within max_images"
    assert set(final["metrics"]) == {"predict_time", "total_time"}, "no metric Replicate does not document"
    started = datetime.fromisoformat(final["started_at"])
    completed = datetime.fromisoformat(final["completed_at"])
    assert completed > started > datetime.fromisoformat(final["created_at"])
    assert final["metrics"]["predict_time"] == pytest.approx((completed - started).total_seconds(), abs=1e-5)
    assert final["metrics"]["total_time"] > final["metrics"]["predict_time"]
    assert all(item.startswith("http://testserver/files/tmp") for item in final["output"]), "GET hands out URLs"
    assert sorted([(await output_metadata(replicate, item))["index"] for item in final["output"]]) == [0, 1, 2]


async def test_get_cancel_and_list_hand_out_file_urls_over_plain_http(replicate: Replicate) -> None:
    done = await replicate.run({"size": "1K"})
    assert done["output"][0].startswith("data:image/jpeg;base64,"), "sync replies inline for the official client"
    polled = await replicate.prediction(done["id"])
    canceled = (await replicate.cancel(done["id"])).json()
    [listed] = (await replicate.get("predictions")).json()["results"]
    for body in (polled, canceled, listed):
        [url] = body["output"]
        assert url.startswith("http://testserver/files/tmp") and url.endswith(".jpg")
    record = await output_metadata(replicate, polled["output"][0])
    assert record == metadata(done["output"][0]), "the same image either way"
    assert set(done["metrics"]) == {"predict_time", "total_time"}


async def test_data_uri_mode_inlines_async_outputs_with_a_journal_note(make_replicate: ReplicateFactory) -> None:
    replicate = await make_replicate(replicate_file_output="data-uri")
    done = await replicate.run({"size": "1K"})
    polled = await replicate.prediction(done["id"])
    assert polled["output"] == done["output"] and polled["output"][0].startswith("data:image/jpeg;base64,")
    entry = replicate.entries()[-1]
    assert entry.warnings == [] and any("replicate_file_output = data-uri" in note for note in entry.notes)


async def test_processing_predictions_have_no_output_yet(make_replicate: ReplicateFactory, clock: ManualClock) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    created = (await replicate.create({"size": "1K"})).json()
    clock.advance(0.6)
    body = await replicate.prediction(created["id"])
    assert body["status"] == "processing" and body["output"] is None
    assert body["started_at"] and "completed_at" not in body
    assert body["logs"].startswith("Enhancing prompt\nGenerating 1 image(s) at 1024x1024")


async def test_prefer_wait_returns_the_finished_prediction_with_data_uris(replicate: Replicate) -> None:
    response = await replicate.create({"size": "1K", "aspect_ratio": "4:3"}, prefer="wait")
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait"
    body = response.json()
    assert contract_errors("replicate", "prediction", body) == []
    assert body["status"] == "succeeded" and body["completed_at"] and body["metrics"]["predict_time"] >= 0
    [item] = body["output"]
    record = metadata(item)
    assert (record["width"], record["height"], record["provider"], record["job_id"]) == (
        1152,
        864,
        "replicate",
        body["id"],
    )


async def test_prefer_wait_n_is_echoed(replicate: Replicate) -> None:
    response = await replicate.create(prefer="wait=5")
    assert response.headers["preference-applied"] == "wait=5"
    assert response.json()["status"] == "succeeded"


async def test_prefer_wait_window_ending_first_returns_starting(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    request = asyncio.ensure_future(replicate.create({"size": "4K"}, prefer="wait=1"))
    await settle(20)
    assert not request.done(), "the request is held"
    clock.advance(0.5)
    await settle(20)
    assert not request.done()
    clock.advance(0.5)
    response = await asyncio.wait_for(request, 5)
    assert response.status_code == 201 and response.headers["preference-applied"] == "wait=1"
    body = response.json()
    assert body["status"] == "starting", "the official client polls only on 'starting'"
    assert body["output"] is None and "started_at" not in body
    assert (await replicate.prediction(body["id"]))["status"] == "processing"


async def test_prefer_wait_holds_until_the_prediction_finishes(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    request = asyncio.ensure_future(replicate.create({"size": "1K"}, prefer="wait=60"))
    for _ in range(20):
        await settle(20)
        if request.done():
            break
        clock.advance(0.25)
    response = await asyncio.wait_for(request, 5)
    body = response.json()
    assert body["status"] == "succeeded" and len(body["output"]) == 1
    assert body["metrics"]["total_time"] < 5


@pytest.mark.parametrize(
    "value",
    ["respond-async", "return=minimal", "wait=0", "wait=abc", "wait=", "wait=5.5", "wait=-1", "handling=lenient"],
)
async def test_prefer_values_it_cannot_apply_are_ignored_as_rfc_7240_says(replicate: Replicate, value: str) -> None:
    response = await replicate.create(prefer=value)
    assert response.status_code == 201, response.text
    assert "preference-applied" not in response.headers
    body = response.json()
    assert body["status"] == "starting" and body["output"] is None, "an ordinary async create"
    [entry] = replicate.entries()
    assert entry.warnings == [] and any(value in note and "RFC 7240" in note for note in entry.notes)


@pytest.mark.parametrize(
    ("value", "applied"), [("wait=61", "wait=60"), ("wait=99", "wait=60"), ("wait=120", "wait=60")]
)
async def test_waits_above_sixty_seconds_are_held_sixty(replicate: Replicate, value: str, applied: str) -> None:
    response = await replicate.create(prefer=value)
    assert response.status_code == 201
    assert response.headers["preference-applied"] == applied
    assert response.json()["status"] == "succeeded"
    [entry] = replicate.entries()
    assert any("held 60 s" in note for note in entry.notes)


async def test_wait_among_other_preferences_is_applied(replicate: Replicate) -> None:
    response = await replicate.create(prefer="respond-async, wait=5; foo=bar, wait=9")
    assert response.headers["preference-applied"] == "wait=5", "the first wait counts"
    assert response.json()["status"] == "succeeded"


async def test_prefer_wait_holds_sixty_seconds_at_most(make_replicate: ReplicateFactory, clock: ManualClock) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    replicate.runtime.faults.add({"action": "stall", "surface": "replicate"})
    request = asyncio.ensure_future(replicate.create({"size": "1K"}, prefer="wait=90"))
    await settle(20)
    clock.advance(59.9)
    await settle(20)
    assert not request.done(), "held"
    clock.advance(0.2)
    response = await asyncio.wait_for(request, 5)
    assert response.json()["status"] == "starting"


@pytest.mark.parametrize("value", ["wait", "WAIT", "wait=1", "wait=60", ' wait = "30" '])
async def test_valid_prefer_spellings(replicate: Replicate, value: str) -> None:
    response = await replicate.create(prefer=value)
    assert response.status_code == 201
    assert response.json()["status"] == "succeeded"


async def test_create_by_version_accepts_every_documented_form(replicate: Replicate) -> None:
    latest = rules.LATEST_VERSION["id"]
    for version in (latest, f"bytedance/seedream-4:{latest}", "bytedance/seedream-4", rules.VERSIONS[-1]["id"]):
        response = await replicate.create_version(
            {"version": version, "input": {"prompt": "x", "size": "1K"}}, prefer="wait"
        )
        assert response.status_code == 201, (version, response.text)
        assert response.json()["version"] == "hidden"
        assert response.json()["status"] == "succeeded"


@pytest.mark.parametrize("version", ["0" * 64, "bytedance/seedream-4:abc", "stability-ai/sdxl", "bytedance/seedream-3"])
async def test_unknown_versions_are_422(replicate: Replicate, version: str) -> None:
    response = await replicate.create_version({"version": version, "input": {"prompt": "x"}})
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "title": "Invalid version or not permitted",
        "detail": "The specified version does not exist (or perhaps you don't have permission to use it?)",
    }


async def test_other_models_and_predictions_are_404(replicate: Replicate) -> None:
    response = await replicate.client.post(
        "/v1/models/stability-ai/sdxl/predictions", json={"input": {"prompt": "x"}}, headers=AUTH
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "The requested resource could not be found.", "status": 404}
    assert response.headers["content-type"] == "application/problem+json"
    assert (await replicate.get("predictions/" + "a" * 26)).status_code == 404
    assert (await replicate.get("/v1/nothing/here")).status_code == 404


async def test_cancel_a_processing_prediction(make_replicate: ReplicateFactory, clock: ManualClock) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    created = (await replicate.create({"size": "2K"})).json()
    clock.advance(1.0)
    response = await replicate.cancel(created["id"])
    assert response.status_code == 200
    body = response.json()
    assert contract_errors("replicate", "prediction", body) == []
    assert body["status"] == "canceled" and body["output"] is None and body["error"] is None
    assert body["completed_at"] and body["started_at"] and set(body["metrics"]) == {"predict_time", "total_time"}
    clock.advance(60)
    assert (await replicate.prediction(created["id"]))["status"] == "canceled"


async def test_cancel_a_starting_prediction_has_no_predict_time(
    make_replicate: ReplicateFactory, clock: ManualClock
) -> None:
    replicate = await make_replicate(clock=clock, timing="realistic")
    created = (await replicate.create()).json()
    body = (await replicate.cancel(created["id"])).json()
    assert body["status"] == "canceled" and "started_at" not in body
    assert body["metrics"] == {"total_time": 0.0}


async def test_cancel_after_completion_changes_nothing(replicate: Replicate) -> None:
    done = await replicate.run({"size": "1K"})
    response = await replicate.cancel(done["id"])
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["output"] == (await replicate.prediction(done["id"]))["output"]


async def test_ids_and_images_are_deterministic_per_seed(make_replicate: ReplicateFactory) -> None:
    first = await (await make_replicate(seed=7)).run({"size": "1K"})
    second = await (await make_replicate(seed=7)).run({"size": "1K"})
    assert first["id"] == second["id"]
    assert first["output"] == second["output"]
    other = await (await make_replicate(seed=8)).run({"size": "1K"})
    assert other["id"] != first["id"]


async def test_journal_records_the_route_ids_and_masked_token(replicate: Replicate) -> None:
    body = await replicate.run({"size": "1K"})
    await replicate.get(f"predictions/{body['id']}")
    entries = replicate.entries()
    routes = [entry.route for entry in entries]
    assert routes == ["POST /v1/models/{owner}/{name}/predictions", "GET /v1/predictions/{id}"]
    assert all(body["id"] in entry.ids for entry in entries)
    assert entries[0].api_key == "r8_t…" and entries[0].valid


async def test_a_full_emulator_throttles_creates_with_429(replicate: Replicate) -> None:
    replicate.runtime.jobs.max_active = 0
    response = await replicate.create(webhook="https://hooks.example.com/h")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body == {"detail": "Request was throttled. Your rate limit resets in ~1s.", "status": 429, "retry_after": 1}
    assert contract_errors("replicate", "problem", body) == []
    await replicate.runtime.settle()
    assert replicate.emulator.receiver.requests == [], "no start webhook for a prediction that was never created"
    assert (await replicate.get("predictions")).json()["results"] == []
