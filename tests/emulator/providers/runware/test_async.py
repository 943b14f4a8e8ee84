import asyncio

from emulator.core.clock import ManualClock
from tests.support import contract_errors, inference, present, settle, task_uuid

from .conftest import Runware, RunwareFactory


async def test_async_delivery_acknowledges_without_results(runware: Runware) -> None:
    task = inference(deliveryMethod="async")
    response = await runware.create(task)
    assert response.status_code == 200
    assert response.json() == {"data": [{"taskType": "imageInference", "taskUUID": task["taskUUID"]}]}
    assert contract_errors("runware", "asyncAck", response.json()["data"][0]) == []


async def test_get_response_is_cumulative_while_images_finish(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock, timing="realistic")
    task = inference(deliveryMethod="async", numberResults=3, includeCost=True)
    await runware.create(task)
    seen = []
    for _ in range(40):
        body = (await runware.poll(task["taskUUID"])).json()
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
    final = (await runware.poll(task["taskUUID"])).json()["data"]
    assert len({item["imageUUID"] for item in final}) == 3
    assert all(item["cost"] == 0.03 for item in final)


async def test_sync_tasks_can_be_polled_too(runware: Runware) -> None:
    task = inference(numberResults=2)
    sync_items = (await runware.create(task)).json()["data"]
    polled = (await runware.poll(task["taskUUID"])).json()["data"]
    assert [{k: v for k, v in item.items() if k != "status"} for item in polled] == sync_items
    assert {item["status"] for item in polled} == {"success"}


async def test_unknown_task_uuid_is_404_task_failed_or_not_found(runware: Runware) -> None:
    unknown = task_uuid()
    response = await runware.create({"taskType": "getResponse", "taskUUID": unknown})
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert (error["code"], error["taskUUID"], error["taskType"]) == ("taskFailedOrNotFound", unknown, "getResponse")


async def test_reused_task_uuid_is_a_conflict_and_results_stay_available(runware: Runware) -> None:
    task = inference()
    first = (await runware.create(task)).json()["data"]
    response = await runware.create({**task, "positivePrompt": "something else"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["taskUUID"], error["taskType"]) == (
        "conflictTaskUUID",
        task["taskUUID"],
        "imageInference",
    )
    polled = (await runware.poll(task["taskUUID"])).json()["data"]
    assert [item["imageUUID"] for item in polled] == [item["imageUUID"] for item in first]


async def test_duplicate_task_uuid_within_one_array_conflicts(runware: Runware) -> None:
    task = inference()
    body = (await runware.create(task, dict(task))).json()
    assert len(body["data"]) == 1
    assert [error["code"] for error in body["errors"]] == ["conflictTaskUUID"]


async def test_rejected_task_does_not_use_up_its_uuid(runware: Runware) -> None:
    task = inference(numberResults=0)
    assert (await runware.create(task)).status_code == 400
    assert (await runware.create({**task, "numberResults": 1})).status_code == 200


async def test_async_jobs_progress_without_being_polled(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock, timing="fast")
    task = inference(deliveryMethod="async", webhookURL="https://hooks.example/h")
    await runware.create(task)
    await settle()
    assert runware.receiver.requests == []
    clock.advance(5)
    for _ in range(50):
        await settle()
        if runware.receiver.requests:
            break
        await asyncio.sleep(0.01)
    assert len(runware.receiver.requests) == 1


async def test_failed_generation_shows_as_an_error_item(make_runware: RunwareFactory, clock: ManualClock) -> None:
    from emulator.core.jobs import Failure

    runware = await make_runware(clock=clock, timing="realistic")
    task = inference(deliveryMethod="async")
    await runware.create(task)
    present(runware.runtime.jobs.get(task["taskUUID"])).fail(
        Failure("timeoutProvider", "The external provider did not respond."), clock.now()
    )
    response = await runware.poll(task["taskUUID"])
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


async def test_failed_sync_task_answers_with_its_error(make_runware: RunwareFactory, clock: ManualClock) -> None:
    from emulator.core.jobs import Failure

    runware = await make_runware(clock=clock, timing="realistic")
    task = inference()
    pending = asyncio.create_task(runware.create(task))
    await settle(50)
    present(runware.runtime.jobs.get(task["taskUUID"])).fail(Failure("providerError", "Upstream refused."), clock.now())
    response = await asyncio.wait_for(pending, 5)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "providerError"


async def test_reset_answers_waiting_sync_requests(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock, timing="realistic")
    pending = asyncio.create_task(runware.create(inference()))
    await settle(50)
    assert (await runware.client.post("/_emulator/reset")).status_code == 200
    response = await asyncio.wait_for(pending, 5)
    assert response.json()["errors"][0]["code"] == "taskCancelled"


async def test_concurrent_tasks_with_one_uuid_accept_exactly_one(runware: Runware) -> None:
    import base64
    import io
    import random

    from PIL import Image

    noisy = Image.frombytes("RGB", (400, 400), random.Random(2).randbytes(400 * 400 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    big = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    task = inference(inputs={"referenceImages": [big]})
    first, second = await asyncio.gather(runware.create(task), runware.create(task))
    assert sorted([first.status_code, second.status_code]) == [200, 400]
    loser = first if first.status_code == 400 else second
    assert loser.json()["errors"][0]["code"] == "conflictTaskUUID"


async def test_uuids_conflict_whatever_their_case(runware: Runware) -> None:
    task = inference()
    await runware.create(task)
    response = await runware.create({**task, "taskUUID": task["taskUUID"].upper()})
    assert response.json()["errors"][0]["code"] == "conflictTaskUUID"


async def test_retention_never_forgets_unfinished_tasks(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock, timing="realistic", job_retention=3)
    running = inference(deliveryMethod="async")
    await runware.create(running)
    for _ in range(5):
        await runware.create(inference(deliveryMethod="async"))
    body = (await runware.poll(running["taskUUID"])).json()
    assert body["data"][0]["status"] == "processing"


async def test_full_queue_is_a_retryable_429(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock, timing="realistic", max_active_jobs=2)
    await runware.create(inference(deliveryMethod="async"), inference(deliveryMethod="async"))
    response = await runware.create(inference(deliveryMethod="async"))
    assert response.status_code == 429
    assert response.json()["errors"][0]["code"] == "rateLimitExceeded"
