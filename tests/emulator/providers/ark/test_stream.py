"""`stream: true`: Server-Sent Events as Ark documents them, one per image as it is made, then the completion and
`data: [DONE]`; a request refused before generation is answered in JSON."""

from __future__ import annotations

import json

import httpx

from emulator.core.clock import ManualClock
from tests.sdk.live import LiveEmulator

from .conftest import MODEL, Ark, auth, body, error_of, events

GROUP = {"sequential_image_generation": "auto", "stream": True}


async def test_each_image_is_an_event_then_the_completion_then_done(ark: Ark) -> None:
    response = await ark.generate(body(prompt="a kite, generate 3 images", **GROUP))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    found = events(response.text)
    assert [name for name, _ in found] == [
        "image_generation.partial_succeeded",
        "image_generation.partial_succeeded",
        "image_generation.partial_succeeded",
        "image_generation.completed",
        None,
    ]
    assert all(data["type"] == name for name, data in found[:-1])
    images = [data for _, data in found[:3]]
    assert [image["image_index"] for image in images] == [0, 1, 2]
    assert all(image["model"] == MODEL and image["size"] == "1024x1024" for image in images)
    records = [await ark.record(image["url"]) for image in images]
    assert [record["index"] for record in records] == [0, 1, 2]
    assert found[3][1]["usage"] == {"generated_images": 3, "output_tokens": 12288, "total_tokens": 12288}
    assert found[4][1] == "[DONE]"


async def test_streamed_images_may_come_as_base64(ark: Ark) -> None:
    response = await ark.generate(body(response_format="b64_json", stream=True))
    [(name, image), (_, completed), (_, done)] = events(response.text)
    assert name == "image_generation.partial_succeeded" and set(image) >= {"b64_json", "size", "image_index"}
    assert "url" not in image and completed["usage"]["generated_images"] == 1 and done == "[DONE]"


async def test_a_failed_image_is_a_partial_failed_event(ark: Ark) -> None:
    response = await ark.generate(body(prompt="a fox [[emulator:fail=content_policy]]", **GROUP))
    found = events(response.text)
    assert [name for name, _ in found] == ["image_generation.partial_failed", "image_generation.completed", None]
    failed = found[0][1]
    assert failed["image_index"] == 0 and failed["error"]["code"] == "OutputImageSensitiveContentDetected"
    assert found[1][1]["usage"]["generated_images"] == 0


async def test_a_refused_stream_is_answered_in_json(ark: Ark) -> None:
    response = await ark.post(json=body(size="3x3", stream=True))
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    assert error_of(response)["param"] == "size"
    unauthorized = await ark.post(auth(None), json=body(stream=True))
    assert unauthorized.status_code == 401 and error_of(unauthorized)["code"] == "AuthenticationError"


def test_events_arrive_as_the_images_are_made() -> None:
    """Over a real socket and a manual clock: the first image's event is read while the others are not made yet."""
    with LiveEmulator(ManualClock(), timing="realistic") as live:
        payload = body(prompt="a kite, generate 3 images", **GROUP)
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "POST", live.url("ark") + "/api/v3/images/generations", json=payload, headers=auth()
            ) as reply,
        ):
            assert reply.status_code == 200
            lines = reply.iter_lines()
            [job] = live.runtime.jobs
            live.drive_until(lambda: job.outputs_ready >= 1)
            first = next(line for line in lines if line.startswith("data: "))
            assert json.loads(first[6:])["image_index"] == 0
            assert job.outputs_ready < 3, "the first event came before the last image was made"
            live.drive_until(lambda: job.state.terminal)
            rest = [line for line in lines if line.startswith("data: ")]
        assert rest[-1] == "data: [DONE]" and len(rest) == 4


async def test_a_stream_that_fails_part_way_sends_its_images_then_the_failure(ark: Ark) -> None:
    rule = {"action": "fail", "failure": "content_policy", "images": 2, "surface": "ark", "times": 1}
    assert (await ark.client.post("/_emulator/faults", json=rule)).status_code in (200, 201)
    response = await ark.generate(body(prompt="a kite, generate 4 images", **GROUP))
    found = events(response.text)
    assert [name for name, _ in found] == [
        "image_generation.partial_succeeded",
        "image_generation.partial_succeeded",
        "image_generation.partial_failed",
        "image_generation.completed",
        None,
    ]
    assert found[2][1]["image_index"] == 2
    assert found[3][1]["usage"]["generated_images"] == 2
