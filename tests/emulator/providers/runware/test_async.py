import asyncio

from emulator.core.clock import ManualClock
from tests.conftest import Emulator, EmulatorFactory
from tests.support import contract_errors, inference, settle, task_uuid


def poll(task: dict) -> dict:
    return {"taskType": "getResponse", "taskUUID": task["taskUUID"]}


async def test_async_delivery_acknowledges_without_results(emulator: Emulator) -> None:
    task = inference(deliveryMethod="async")
    response = await emulator.runware(task)
    assert response.status_code == 200
    assert response.json() == {"data": [{"taskType": "imageInference", "taskUUID": task["taskUUID"]}]}
    assert contract_errors("runware", "asyncAck", response.json()["data"][0]) == []


async def test_get_response_is_cumulative_while_images_finish(
    make_emulator: EmulatorFactory, clock: ManualClock
) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic")
    task = inference(deliveryMethod="async", numberResults=3, includeCost=True)
    await emulator.runware(task)
    seen = []
    for _ in range(40):
        body = (await emulator.runware(poll(task))).json()
        assert "errors" not in body
        for item in body["data"]:
            assert contract_errors("runware", "getResponseItem", item) == []
            assert item["taskType"] == "imageInference"
        statuses = [item["status"] for item in body["data"]]
        seen.append(statuses.count("success"))
        assert len(statuses) == 3
        if statuses == ["success"] * 3:
            break
        clock.advance(0.5)
    assert seen[0] == 0 and seen[-1] == 3
    assert seen == sorted(seen)
    assert len(set(seen)) == 4, "each image should appear on its own as it finishes"
    final = (await emulator.runware(poll(task))).json()["data"]
    assert len({item["imageUUID"] for item in final}) == 3
    assert all(item["cost"] == 0.03 for item in final)


async def test_sync_tasks_can_be_polled_too(emulator: Emulator) -> None:
    task = inference(numberResults=2)
    sync_items = (await emulator.runware(task)).json()["data"]
    polled = (await emulator.runware(poll(task))).json()["data"]
    assert [{k: v for k, v in item.items() if k != "status"} for item in polled] == sync_items
    assert {item["status"] for item in polled} == {"success"}


async def test_unknown_task_uuid_is_404_task_failed_or_not_found(emulator: Emulator) -> None:
    unknown = task_uuid()
    response = await emulator.runware({"taskType": "getResponse", "taskUUID": unknown})
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert (error["code"], error["taskUUID"], error["taskType"]) == ("taskFailedOrNotFound", unknown, "getResponse")


async def test_reused_task_uuid_is_a_conflict_and_results_stay_available(emulator: Emulator) -> None:
    task = inference()
    first = (await emulator.runware(task)).json()["data"]
    response = await emulator.runware({**task, "positivePrompt": "something else"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["taskUUID"], error["taskType"]) == (
        "conflictTaskUUID",
        task["taskUUID"],
        "imageInference",
    )
    polled = (await emulator.runware(poll(task))).json()["data"]
    assert [item["imageUUID"] for item in polled] == [item["imageUUID"] for item in first]


async def test_duplicate_task_uuid_within_one_array_conflicts(emulator: Emulator) -> None:
    task = inference()
    body = (await emulator.runware(task, dict(task))).json()
    assert len(body["data"]) == 1
    assert [error["code"] for error in body["errors"]] == ["conflictTaskUUID"]


async def test_rejected_task_does_not_use_up_its_uuid(emulator: Emulator) -> None:
    task = inference(numberResults=0)
    assert (await emulator.runware(task)).status_code == 400
    assert (await emulator.runware({**task, "numberResults": 1})).status_code == 200


async def test_async_jobs_progress_without_being_polled(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="fast")
    task = inference(deliveryMethod="async", webhookURL="https://hooks.example/h")
    await emulator.runware(task)
    await settle()
    assert emulator.receiver.requests == []
    clock.advance(5)
    for _ in range(50):
        await settle()
        if emulator.receiver.requests:
            break
        await asyncio.sleep(0.01)
    assert len(emulator.receiver.requests) == 1


async def test_failed_generation_shows_as_an_error_item(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    from emulator.core.jobs import Failure

    emulator = await make_emulator(clock=clock, timing="realistic")
    task = inference(deliveryMethod="async")
    await emulator.runware(task)
    emulator.runtime.jobs.get(task["taskUUID"]).fail(
        Failure("timeoutProvider", "The external provider did not respond."), clock.now()
    )
    response = await emulator.runware(poll(task))
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error == {
        "code": "timeoutProvider",
        "message": "The external provider did not respond.",
        "taskType": "imageInference",
        "taskUUID": task["taskUUID"],
        "status": "error",
    }
    assert contract_errors("runware", "error", error) == []


async def test_failed_sync_task_answers_with_its_error(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    from emulator.core.jobs import Failure

    emulator = await make_emulator(clock=clock, timing="realistic")
    task = inference()
    pending = asyncio.create_task(emulator.runware(task))
    await settle(50)
    emulator.runtime.jobs.get(task["taskUUID"]).fail(Failure("providerError", "Upstream refused."), clock.now())
    response = await asyncio.wait_for(pending, 5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "providerError"


async def test_reset_answers_waiting_sync_requests(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic")
    pending = asyncio.create_task(emulator.runware(inference()))
    await settle(50)
    assert (await emulator.client.post("/_emulator/reset")).status_code == 200
    response = await asyncio.wait_for(pending, 5)
    assert response.json()["errors"][0]["code"] == "taskCancelled"


async def test_concurrent_tasks_with_one_uuid_accept_exactly_one(emulator: Emulator) -> None:
    import base64
    import io
    import random

    from PIL import Image

    noisy = Image.frombytes("RGB", (400, 400), random.Random(2).randbytes(400 * 400 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    big = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    task = inference(inputs={"referenceImages": [big]})
    first, second = await asyncio.gather(emulator.runware(task), emulator.runware(task))
    assert sorted([first.status_code, second.status_code]) == [200, 400]
    loser = first if first.status_code == 400 else second
    assert loser.json()["errors"][0]["code"] == "conflictTaskUUID"


async def test_uuids_conflict_whatever_their_case(emulator: Emulator) -> None:
    task = inference()
    await emulator.runware(task)
    response = await emulator.runware({**task, "taskUUID": task["taskUUID"].upper()})
    assert response.json()["errors"][0]["code"] == "conflictTaskUUID"


async def test_retention_never_forgets_unfinished_tasks(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic", job_retention=3)
    running = inference(deliveryMethod="async")
    await emulator.runware(running)
    for _ in range(5):
        await emulator.runware(inference(deliveryMethod="async"))
    body = (await emulator.runware(poll(running))).json()
    assert body["data"][0]["status"] == "processing"


async def test_full_queue_is_a_retryable_429(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic", max_active_jobs=2)
    await emulator.runware(inference(deliveryMethod="async"), inference(deliveryMethod="async"))
    response = await emulator.runware(inference(deliveryMethod="async"))
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "rateLimitExceeded"
