"""RunwareClient against the emulator: both models, sync and async delivery, idempotent creates, uploads."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Unpack

import httpx
import pytest

from clients import AuthenticationError, GenerationFailed, InvalidRequest
from clients.runware import AsyncRunwareClient, RunwareClient
from emulator import read_metadata
from tests.clients.support import FAST, Live, Recording, SyncOptions, fast, quick
from tests.support import image_bytes


def client(live: Live, **overrides: Unpack[SyncOptions]) -> RunwareClient:
    return quick(RunwareClient("test-key", base_url=live.url("runware") + "/v1", **fast(**overrides)))


def sent_tasks(recording: Recording) -> list[dict[str, object]]:
    return [json.loads(exchange.request)[0] for exchange in recording.exchanges]


@pytest.mark.parametrize(
    ("task", "size"),
    [
        ({"model": "bytedance:5@0", "width": 2304, "height": 1728}, (2304, 1728)),
        ({"model": "bytedance:seedream@4.5", "width": 2560, "height": 1440}, (2560, 1440)),
        ({"model": "bytedance:seedream@4.5", "resolution": "2K"}, (2048, 2048)),
    ],
)
def test_both_models_return_sequences_of_the_requested_size(
    live: Live, task: dict[str, object], size: tuple[int, int]
) -> None:
    request = {
        **task,
        "positivePrompt": "two storyboards",
        "numberResults": 2,
        "seed": 41,
        "providerSettings": {"bytedance": {"maxSequentialImages": 2}},
    }
    recording = Recording()
    with client(live, transport=recording) as runware:
        images = runware.generate(request)
    records = [read_metadata(image.content()) for image in images]
    assert [(r["width"], r["height"]) for r in records] == [size] * 4
    assert [image.seed for image in images] == [41, 42, 43, 44] == [r["seed"] for r in records]
    assert len({image.id for image in images}) == 4 and all(image.url for image in images)
    create, *polls = sent_tasks(recording)
    assert create["taskType"] == "imageInference" and create["deliveryMethod"] == "async"
    assert uuid.UUID(str(create["taskUUID"])).version == 4
    assert polls == [{"taskType": "getResponse", "taskUUID": create["taskUUID"]}]
    assert {r["job_id"] for r in records} == {create["taskUUID"]}
    assert live.invalid("runware") == []


def test_a_sequence_shorter_than_max_sequential_images_ends_the_polling(live: Live) -> None:
    # Seedream "may generate fewer images than requested": the prompt asks for none, so each result is one image.
    request = {
        "model": "bytedance:5@0",
        "positivePrompt": "a lighthouse at dusk",
        "width": 1024,
        "height": 1024,
        "numberResults": 2,
        "providerSettings": {"bytedance": {"maxSequentialImages": 4}},
    }
    with client(live) as runware:
        images = runware.generate(request)
    assert len(images) == 2 and len({image.id for image in images}) == 2


@pytest.mark.parametrize("output", ["base64Data", "dataURI"])
async def test_sync_delivery_is_one_request_with_inline_images(live: Live, output: str) -> None:
    task_uuid = str(uuid.uuid4())
    request = {
        "taskUUID": task_uuid,
        "model": "bytedance:5@0",
        "positivePrompt": "a kite",
        "width": 1024,
        "height": 1024,
        "deliveryMethod": "sync",
        "outputType": output,
    }
    async with AsyncRunwareClient("test-key", base_url=live.url("runware") + "/v1", **FAST) as runware:
        [image] = await runware.generate(request)
    assert image.url is None and image.data is not None and image.id
    assert read_metadata(image.data)["job_id"] == task_uuid
    assert len(live.journal("runware")) == 1


def test_an_invalid_task_is_invalid_request_with_runware_s_code_and_message(live: Live) -> None:
    with client(live) as runware, pytest.raises(InvalidRequest) as caught:
        runware.generate({"model": "bytedance:5@0", "positivePrompt": "x" * 2001, "width": 2048, "height": 2048})
    error = caught.value
    assert (error.provider, error.code, error.status) == ("runware", "invalidPositivePrompt", 400)
    assert error.message.startswith("Invalid value for 'positivePrompt' parameter")
    assert len(live.journal("runware")) == 1  # refused at create: no poll


def test_an_invalid_delivery_method_is_sent_as_written_and_refused(live: Live) -> None:
    """The client defaults an absent deliveryMethod; it never replaces one the caller gave (the harness's limits
    check fails a client that silently alters an out-of-contract request)."""
    recording = Recording()
    task = {"model": "bytedance:5@0", "positivePrompt": "x", "width": 1024, "height": 1024, "deliveryMethod": "soon"}
    with client(live, transport=recording) as runware, pytest.raises(InvalidRequest) as caught:
        runware.generate(task)
    assert caught.value.code == "invalidDeliveryMethod"
    assert [sent["deliveryMethod"] for sent in sent_tasks(recording)] == ["soon"]


def test_a_failed_sync_task_is_generation_failed_not_invalid_request(live: Live) -> None:
    request = {
        "model": "bytedance:5@0",
        "positivePrompt": "a reef [[emulator:fail=provider_error]]",
        "width": 2048,
        "height": 2048,
        "deliveryMethod": "sync",
    }
    with client(live) as runware, pytest.raises(GenerationFailed) as caught:
        runware.generate(request)
    assert caught.value.code == "providerError" and caught.value.status == 400


def test_a_reused_task_uuid_is_refused_on_the_first_attempt(live: Live) -> None:
    task = {
        "taskUUID": str(uuid.uuid4()),
        "model": "bytedance:5@0",
        "positivePrompt": "a",
        "width": 2048,
        "height": 2048,
    }
    with client(live) as runware:
        runware.generate(task)
        with pytest.raises(InvalidRequest) as caught:
            runware.generate(task)
    assert caught.value.code == "conflictTaskUUID"


def test_a_retried_create_whose_first_attempt_got_through_polls_for_its_task(live: Live) -> None:
    task = {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "bytedance:5@0",
        "positivePrompt": "a",
        "width": 2048,
        "height": 2048,
        "deliveryMethod": "async",
    }
    # The first attempt reached Runware, but its reply was lost as a 503.
    httpx.post(live.url("runware") + "/v1", json=[task], headers={"Authorization": "Bearer test-key"})
    live.fault(action="error", surface="runware", status=503, times=1)
    with client(live) as runware:
        [image] = runware.generate(task)
    assert read_metadata(image.content())["job_id"] == task["taskUUID"]
    assert [entry.status for entry in live.journal("runware")] == [200, 503, 400, 200]


def test_uploads_and_local_files_become_references(live: Live, tmp_path: Path) -> None:
    path = tmp_path / "ref.jpg"
    path.write_bytes(image_bytes(fmt="JPEG"))
    with client(live) as runware:
        uploaded = runware.upload(image_bytes())
        assert uuid.UUID(uploaded)
        [image] = runware.generate(
            {
                "model": "bytedance:seedream@4.5",
                "positivePrompt": "blend",
                "resolution": "2K",
                "inputs": {"referenceImages": [uploaded, path]},
            }
        )
    assert read_metadata(image.content())["reference_count"] == 2
    assert live.invalid("runware") == []


async def test_the_async_upload_surfaces_runware_s_error(live: Live) -> None:
    async with AsyncRunwareClient("test-key", base_url=live.url("runware") + "/v1", **FAST) as runware:
        with pytest.raises(InvalidRequest) as caught:
            await runware.upload(b"not an image")
    assert caught.value.code == "invalidImage"


def test_a_wrong_key_is_authentication_error(other: Live) -> None:
    task = {"model": "bytedance:5@0", "positivePrompt": "a", "width": 2048, "height": 2048}
    base_url = other.url("runware") + "/v1"
    with RunwareClient("wrong-key", base_url=base_url, **FAST) as runware, pytest.raises(AuthenticationError) as caught:
        runware.generate(task)
    assert (caught.value.code, caught.value.status) == ("invalidApiKey", 401)
    with RunwareClient("good-key", base_url=base_url, **FAST) as runware:
        assert runware.generate(task)


def test_runware_has_no_cancel() -> None:
    assert not hasattr(RunwareClient, "cancel") and not hasattr(AsyncRunwareClient, "cancel")
