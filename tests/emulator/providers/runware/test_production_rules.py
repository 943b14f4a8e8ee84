"""Runware under production rules: model-decided sequence lengths, the int64 seed bound, webhook and upload targets,
reference URLs read as Runware would read them, and a journal warning for whatever is served only out of kindness."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import counts
from tests.sdk.live import LiveEmulator
from tests.support import DROP, data_uri, image_bytes, inference, task_uuid

from .conftest import Runware, RunwareFactory

SEED_MAX = 2**63 - 1
examples = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def sequence(prompt: str, sequential: int, **fields: Any) -> dict[str, Any]:
    return inference(
        width=1024,
        height=1024,
        positivePrompt=prompt,
        providerSettings={"bytedance": {"maxSequentialImages": sequential}},
        **fields,
    )


# 1. maxSequentialImages is an upper bound the prompt decides within; numberResults is exact.


@examples
@given(results=st.integers(1, 3), sequential=st.integers(1, 6), asked=st.integers(0, 8))
async def test_each_result_makes_what_the_prompt_asks_within_max_sequential_images(
    make_runware: RunwareFactory, results: int, sequential: int, asked: int
) -> None:
    runware = await make_runware()
    task = sequence(counts.ask("a lighthouse", asked), sequential, numberResults=results)
    items = (await runware.create(task)).json()["data"]
    assert len(items) == results * min(sequential, max(asked, 1))
    assert runware.entries()[-1].warnings == []


async def test_max_mode_makes_every_sequence_full(make_runware: RunwareFactory) -> None:
    runware = await make_runware(image_count="max")
    items = (await runware.create(sequence("a lighthouse", 3, numberResults=2))).json()["data"]
    assert len(items) == 6


async def test_the_count_mode_switches_at_run_time(runware: Runware) -> None:
    assert len((await runware.create(sequence("a lighthouse", 3))).json()["data"]) == 1
    runware.app.state.emulator.set_policy(image_count="max")
    assert len((await runware.create(sequence("a lighthouse", 3))).json()["data"]) == 3


async def test_number_results_stays_exact_whatever_the_prompt_asks(runware: Runware) -> None:
    items = await runware.finished(numberResults=2, positivePrompt=counts.ask("a kite", 5))
    assert len(items) == 2


async def test_get_response_holds_only_the_decided_images(runware: Runware) -> None:
    task = sequence(counts.ask("a lighthouse", 2), 5, deliveryMethod="async")
    await runware.create(task)
    await runware.runtime.settle()
    body = (await runware.create({"taskType": "getResponse", "taskUUID": task["taskUUID"]})).json()
    assert [item["status"] for item in body["data"]] == ["success", "success"]


async def test_directives_in_the_prompt_do_not_count_as_a_request_for_images(runware: Runware) -> None:
    prompt = "a lighthouse [[emulator:latency=0ms;note=generate 4 images]]"
    items = (await runware.create(sequence(prompt, 4))).json()["data"]
    assert len(items) == 1


# 2. seed: 0 .. 2^63 - 1 (the page prints 2^63 as a double).


@pytest.mark.parametrize("seed", [SEED_MAX, 0])
async def test_seed_up_to_int64_max_is_served_and_echoed(runware: Runware, seed: int) -> None:
    [item] = await runware.finished(seed=seed)
    assert item["seed"] == seed and (await runware.record(item))["seed"] == seed


@examples
@given(seed=st.one_of(st.integers(2**63, 2**64 + 5), st.sampled_from([9223372036854776000, 10**30, 2**70])))
async def test_seed_beyond_int64_is_invalid_seed(make_runware: RunwareFactory, seed: int) -> None:
    runware = await make_runware()
    task = inference(seed=seed)
    response = await runware.create(task)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["parameter"], error["type"]) == ("invalidSeed", "seed", "integer")
    assert (
        error["message"]
        == "Invalid value for 'seed' parameter. It must be an integer between 0 and 9223372036854775807."
    )
    assert (error["taskType"], error["taskUUID"]) == ("imageInference", task["taskUUID"])
    assert error["documentation"] == "https://runware.ai/docs/models/bytedance-seedream-4-0#request-seed"


async def test_seed_beyond_int64_written_as_a_raw_json_number(runware: Runware) -> None:
    uuid = task_uuid()
    raw = (
        f'[{{"taskType":"imageInference","taskUUID":"{uuid}","model":"bytedance:5@0","positivePrompt":"x",'
        '"width":1024,"height":1024,"seed":9223372036854775808}]'
    )
    response = await runware.client.post("/runware/v1", content=raw, headers={"Authorization": "Bearer k"})
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "invalidSeed"


# 4. webhookURL and uploadEndpoint under the production target rule.

PARAMETERS = ["webhookURL", "uploadEndpoint"]


@pytest.mark.parametrize("parameter", PARAMETERS)
@pytest.mark.parametrize("url", ["http://hooks.example.com/h", "https://10.0.0.9/h", "https://0x7f000001/h"])
async def test_strict_refuses_a_target_naming_the_parameter(
    make_runware: RunwareFactory, parameter: str, url: str
) -> None:
    runware = await make_runware(strict=True)
    task = inference(**{parameter: url})
    response = await runware.create(task)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["parameter"], error["type"]) == (
        f"invalid{parameter[0].upper()}{parameter[1:]}",
        parameter,
        "string",
    )
    assert error["message"].startswith(f"Invalid value for '{parameter}' parameter. The URL {url}")
    assert (error["taskType"], error["taskUUID"]) == ("imageInference", task["taskUUID"])
    assert runware.receiver.requests == []


async def test_strict_refuses_only_the_task_at_fault(make_runware: RunwareFactory) -> None:
    runware = await make_runware(strict=True)
    good, bad = inference(), inference(uploadEndpoint="http://127.0.0.1:9/put")
    body = (await runware.create(good, bad)).json()
    assert [item["taskUUID"] for item in body["data"]] == [good["taskUUID"]]
    assert [error["taskUUID"] for error in body["errors"]] == [bad["taskUUID"]]


@pytest.mark.parametrize("parameter", PARAMETERS)
async def test_lenient_serves_a_target_with_a_warning_naming_the_parameter(runware: Runware, parameter: str) -> None:
    response = await runware.create(inference(**{parameter: "http://127.1:9000/target"}))
    assert response.status_code == 200
    await runware.runtime.settle()
    assert len(runware.receiver.requests) == 1
    warnings = runware.entries()[-1].warnings
    assert len(warnings) == 2 and all(
        warning.startswith(f"{parameter} http://127.1:9000/target") for warning in warnings
    )
    assert "not HTTPS" in warnings[0] and "internal host 127.1" in warnings[1]


async def test_the_target_policy_is_read_at_request_time(runware: Runware) -> None:
    assert (await runware.create(inference(webhookURL="http://127.0.0.1:9/h"))).status_code == 200
    runware.app.state.emulator.set_policy(strict=True)
    assert (await runware.create(inference(webhookURL="http://127.0.0.1:9/h"))).status_code == 400
    runware.app.state.emulator.set_policy(callback_exempt=["http://127.0.0.1:9/"])
    assert (await runware.create(inference(webhookURL="http://127.0.0.1:9/h"))).status_code == 200
    assert runware.entries()[-1].warnings == []


@pytest.fixture
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator(timing="instant") as server:
        yield server


async def over_socket(live: LiveEmulator, task: dict[str, Any]) -> dict[str, Any]:
    async with websockets.connect(f"{live.ws_base}/runware/v1", max_size=None) as socket:
        await socket.send(json.dumps([{"taskType": "authentication", "apiKey": "k"}, task]))
        frames = [json.loads(await asyncio.wait_for(socket.recv(), 5)) for _ in range(2)]
    return frames[1]


@pytest.mark.parametrize("parameter", PARAMETERS)
async def test_the_socket_applies_the_same_target_rule(live: LiveEmulator, parameter: str) -> None:
    task = inference(**{parameter: "http://127.0.0.1:9/target"})
    await over_socket(live, task)
    [served] = [e for e in live.runtime.journal.entries(surface="runware") if task["taskUUID"] in e.ids]
    assert any(w.startswith(f"{parameter} ") and "internal host" in w for w in served.warnings)
    live.emulator.set_policy(strict=True)
    refused = inference(**{parameter: "http://127.0.0.1:9/target"})
    frame = await over_socket(live, refused)
    [error] = frame["errors"]
    assert (error["parameter"], error["taskUUID"]) == (parameter, refused["taskUUID"])


# 5. Reference URLs: read when reachable, refused when Runware could not fetch them, warned about when unchecked.


async def test_a_loopback_reference_is_downloaded_and_its_size_used(runware: Runware) -> None:
    url = runware.fixtures.url("wide.png", image_bytes(160, 90))
    [item] = (await runware.create(inference(width=DROP, height=DROP, inputs={"referenceImages": [url]}))).json()[
        "data"
    ]
    assert ((meta := await runware.record(item))["width"], meta["height"]) == (2560, 1440)
    assert [str(request.url) for request in runware.fixtures.requests] == [url]
    [warning] = runware.entries()[-1].warnings
    assert url in warning and "cannot reach it" in warning


async def test_a_loopback_reference_drives_the_45_resolution_preset(runware: Runware) -> None:
    url = runware.fixtures.url("tall.webp", image_bytes(90, 160, "WEBP"))
    task = inference(model="bytedance:seedream@4.5", width=DROP, height=DROP, resolution="4K", referenceImages=[url])
    [item] = (await runware.create(task)).json()["data"]
    assert ((meta := await runware.record(item))["width"], meta["height"]) == (2880, 5120)


@pytest.mark.parametrize(
    ("content", "detail"),
    [(image_bytes(fmt="GIF"), "GIF images are not supported"), (b"not an image", "cannot be decoded")],
)
async def test_a_loopback_reference_must_be_a_supported_image(runware: Runware, content: bytes, detail: str) -> None:
    url = runware.fixtures.url("bad", content)
    task = inference(inputs={"referenceImages": [url]})
    [error] = (await runware.create(task)).json()["errors"]
    assert error["code"] == "invalidReferenceImages" and error["taskUUID"] == task["taskUUID"]
    assert f"reference image 0: {url}" in error["message"] and detail in error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8999/missing.png",  # the download answers 404
        "https://10.0.0.7/ref.png",
        "http://169.254.169.254/latest/ref.png",
        "https://[fd00::1]/ref.png",
        "https://images.invalid/ref.png",
        "https://metadata.google.internal/ref.png",
    ],
)
async def test_an_unreachable_reference_fails_the_task_with_invalid_reference_images(
    runware: Runware, url: str
) -> None:
    task = inference(width=DROP, height=DROP, inputs={"referenceImages": [url]}, deliveryMethod="async")
    response = await runware.create(task)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["parameter"], error["taskUUID"]) == (
        "invalidReferenceImages",
        "referenceImages",
        task["taskUUID"],
    )
    assert "a publicly accessible URL" in error["message"] and "(reference image 0: " in error["message"]
    assert url in error["message"]
    assert runware.runtime.jobs.get(task["taskUUID"]) is None
    assert all("10.0.0.7" not in str(r.url) and "169.254" not in str(r.url) for r in runware.fixtures.requests)


async def test_a_public_reference_is_taken_on_trust_with_a_warning(runware: Runware) -> None:
    url = "https://assets.runware.ai/assets/inputs/56479b8a-765e-4350-96b3-346fa826cbf6.jpg"
    [item] = (await runware.create(inference(width=DROP, height=DROP, inputs={"referenceImages": [url]}))).json()[
        "data"
    ]
    assert ((meta := await runware.record(item))["width"], meta["height"]) == (2048, 2048)
    assert runware.fixtures.requests == []
    [warning] = runware.entries()[-1].warnings
    assert url in warning and "unchecked" in warning


async def test_the_emulator_s_own_files_are_read_silently(runware: Runware) -> None:
    upload = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": data_uri(90, 160)}
    [uploaded] = (await runware.create(upload)).json()["data"]
    [item] = (await runware.create(inference(width=DROP, height=DROP, referenceImages=[uploaded["imageURL"]]))).json()[
        "data"
    ]
    assert ((meta := await runware.record(item))["width"], meta["height"]) == (1440, 2560)
    assert runware.entries()[-1].warnings == [] and runware.fixtures.requests == []


async def test_a_big_download_is_decoded_off_the_event_loop(runware: Runware, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    import anyio.to_thread
    from PIL import Image

    noisy = Image.frombytes("RGB", (400, 400), random.Random(3).randbytes(400 * 400 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    url = runware.fixtures.url("noisy.png", out.getvalue())
    threaded: list[Any] = []
    run_sync = anyio.to_thread.run_sync

    async def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        threaded.append(function)
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    assert (await runware.create(inference(inputs={"referenceImages": [url]}))).status_code == 200
    assert [function.__name__ for function in threaded] == ["inspect"]


async def test_a_download_beyond_the_emulator_bound_is_taken_unchecked_with_a_note(
    runware: Runware, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.providers.runware.models import references

    monkeypatch.setattr(references, "REFERENCE_BYTES", 100)
    url = runware.fixtures.url("large.png", image_bytes(64, 48))
    assert (await runware.create(inference(inputs={"referenceImages": [url]}))).status_code == 200
    assert any("larger than the 100 bytes" in note for note in runware.entries()[-1].notes)


async def test_an_upload_by_url_is_read_like_a_reference(runware: Runware) -> None:
    url = runware.fixtures.url("wide.jpg", image_bytes(160, 90, "JPEG"))
    upload = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": url}
    [uploaded] = (await runware.create(upload)).json()["data"]
    assert "cannot reach it" in runware.entries()[-1].warnings[0]
    [item] = (
        await runware.create(inference(width=DROP, height=DROP, inputs={"referenceImages": [uploaded["imageUUID"]]}))
    ).json()["data"]
    assert ((meta := await runware.record(item))["width"], meta["height"]) == (2560, 1440)
    refused = {"taskType": "imageUpload", "taskUUID": task_uuid(), "image": "https://192.168.0.4/x.png"}
    [error] = (await runware.create(refused)).json()["errors"]
    assert (error["code"], error["parameter"]) == ("invalidImage", "image")


# 6. What the model pages do not document is served with a warning; platform fields with a note.


async def test_optimize_prompt_mode_on_40_is_served_with_a_warning(runware: Runware) -> None:
    task = inference(providerSettings={"bytedance": {"optimizePromptMode": "fast"}})
    assert (await runware.create(task)).status_code == 200
    [warning] = runware.entries()[-1].warnings
    assert "'providerSettings.bytedance.optimizePromptMode' is documented only for bytedance:seedream@4.5" in warning
    await runware.create({**task, "taskUUID": task_uuid(), "model": "bytedance:seedream@4.5", "width": 2048})
    assert runware.entries()[-1].warnings == []


async def test_the_seed_pages_examples_raise_no_warning(runware: Runware) -> None:
    examples = [
        inference(width=2304, height=1728, seed=5417, providerSettings={"bytedance": {"maxSequentialImages": 1}}),
        inference(
            model="bytedance:seedream@4.5",
            width=DROP,
            height=DROP,
            resolution="4K",
            seed=19364,
            providerSettings={"bytedance": {"optimizePromptMode": "standard"}},
        ),
    ]
    for task in examples:
        assert (await runware.create(task)).status_code == 200
        assert (runware.entries()[-1].warnings, runware.entries()[-1].notes) == ([], [])


async def test_the_socket_journals_the_same_leniency(live: LiveEmulator) -> None:
    task = inference(negativePrompt="blurry", routing={"region": "eu"})
    frame = await over_socket(live, task)
    assert "data" in frame
    [served] = [e for e in live.runtime.journal.entries(surface="runware") if task["taskUUID"] in e.ids]
    assert [w.split("'")[1] for w in served.warnings] == ["negativePrompt"]
    assert [n.split("'")[1] for n in served.notes] == ["routing"]


async def test_the_harness_profile_cases_are_served_without_leniency_under_production_rules(
    make_runware: RunwareFactory,
) -> None:
    from conformance.profiles import load_profile

    profile = load_profile("runware")
    runware = await make_runware(strict=True)
    for case in profile.valid_cases(seed=11, count=4):
        response = await runware.create(dict(case.body))
        assert response.status_code == 200, (case.id, response.text)
        assert runware.entries()[-1].warnings == [], case.id
        assert case.expect is not None and len(response.json()["data"]) == case.expect.count, case.id
    fewer = profile.body("resilience: fewer_images", images=2)
    assert len((await runware.create(fewer)).json()["data"]) == 2 and runware.entries()[-1].warnings == []
