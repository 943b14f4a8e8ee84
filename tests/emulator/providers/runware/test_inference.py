import io

import pytest
from PIL import Image

from contracts import counts
from emulator import read_metadata
from emulator.core.clock import ManualClock
from tests.support import contract_errors, drive, inference, settle

from .conftest import Runware, RunwareFactory

MODELS = ["bytedance:5@0", "bytedance:seedream@4.5"]


async def test_seed_page_example_round_trips(runware: Runware) -> None:
    task = {
        "taskType": "imageInference",
        "taskUUID": "d0e27e41-af62-43be-926c-8211a3a92adb",
        "model": "bytedance:5@0",
        "positivePrompt": "A whimsical old-world bakery built into the side of a giant porcelain dragon statue",
        "width": 2304,
        "height": 1728,
        "seed": 5417,
        "providerSettings": {"bytedance": {"maxSequentialImages": 1}},
    }
    response = await runware.create(task)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data"}
    [item] = body["data"]
    assert contract_errors("runware", "imageInferenceResult", item) == []
    assert item["taskUUID"] == task["taskUUID"]
    assert item["seed"] == 5417
    assert "cost" not in item
    assert item["imageURL"] == f"http://testserver/files/{item['imageUUID']}.jpg"
    record = await runware.record(item)
    assert record["width"] == 2304 and record["height"] == 1728
    assert record["provider"] == "runware" and record["model"] == "bytedance:5@0"
    assert record["job_id"] == task["taskUUID"] and record["seed"] == 5417


@pytest.mark.parametrize(
    "output_type, field", [("URL", "imageURL"), ("dataURI", "imageDataURI"), ("base64Data", "imageBase64Data")]
)
@pytest.mark.parametrize("output_format, pil_format", [("JPG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WEBP")])
async def test_every_output_type_and_format(
    runware: Runware, output_type: str, field: str, output_format: str, pil_format: str
) -> None:
    task = inference(width=1024, height=1024, outputType=output_type, outputFormat=output_format, outputQuality=40)
    [item] = (await runware.create(task)).json()["data"]
    assert contract_errors("runware", "imageInferenceResult", item) == []
    assert {"imageURL", "imageDataURI", "imageBase64Data"} & set(item) == {field}
    if output_type == "dataURI":
        assert item[field].startswith(f"data:image/{pil_format.lower()};base64,")
    if output_type == "URL":
        assert item[field].endswith("." + {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[pil_format])
    data = await runware.image(item)
    with Image.open(io.BytesIO(data)) as image:
        assert (image.format, image.size) == (pil_format, (1024, 1024))
    record = read_metadata(data)
    assert (record["format"], record["quality"]) == (pil_format.lower(), 40)


async def test_number_results_gives_distinct_consecutive_seeds(runware: Runware) -> None:
    items = await runware.finished(numberResults=4, seed=100)
    assert [item["seed"] for item in items] == [100, 101, 102, 103]
    assert len({item["imageUUID"] for item in items}) == 4
    indexes = [(await runware.record(item))["index"] for item in items]
    assert indexes == [0, 1, 2, 3]


async def test_missing_seed_draws_distinct_unsigned_32_bit_seeds(runware: Runware) -> None:
    items = await runware.finished(numberResults=5)
    seeds = [item["seed"] for item in items]
    assert all(0 <= seed < 2**32 for seed in seeds)
    assert len(set(seeds)) == 5


async def test_random_seeds_replay_with_the_same_emulator_seed(make_runware: RunwareFactory) -> None:
    first, second = await make_runware(seed=9), await make_runware(seed=9)
    task = inference(numberResults=3)
    one = (await first.create(task)).json()["data"]
    two = (await second.create(task)).json()["data"]
    assert one == two


@pytest.mark.parametrize(
    "results, sequential, asked, expected",
    [(1, None, 3, 1), (1, 1, 3, 1), (1, 4, 4, 4), (1, 4, 0, 1), (3, 5, 5, 15), (3, 5, 2, 6), (20, 15, 15, 300)],
)
async def test_image_count_is_number_results_times_what_the_prompt_asks_within_max_sequential_images(
    runware: Runware, results: int, sequential: int | None, asked: int, expected: int
) -> None:
    task = inference(numberResults=results, width=1024, height=1024, positivePrompt=counts.ask("a lighthouse", asked))
    if sequential is not None:
        task["providerSettings"] = {"bytedance": {"maxSequentialImages": sequential}}
    items = (await runware.create(task)).json()["data"]
    assert len(items) == expected
    assert len({item["seed"] for item in items}) == expected


@pytest.mark.parametrize("model, price", [("bytedance:5@0", 0.03), ("bytedance:seedream@4.5", 0.04)])
async def test_include_cost_reports_the_model_price_per_image(runware: Runware, model: str, price: float) -> None:
    items = await runware.finished(model=model, numberResults=2, includeCost=True)
    assert [item["cost"] for item in items] == [price, price]


async def test_safety_check_marks_results(runware: Runware) -> None:
    [item] = await runware.finished(safety={"checkContent": True, "mode": "fast"})
    assert item["NSFWContent"] is False


async def test_url_outputs_expire_after_ttl(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock)
    [item] = await runware.finished(ttl=60)
    assert (await runware.client.get(item["imageURL"])).status_code == 200
    clock.advance(61)
    assert (await runware.client.get(item["imageURL"])).status_code == 404


async def test_url_outputs_render_only_when_downloaded(runware: Runware) -> None:
    items = await runware.finished(numberResults=5)
    assert runware.runtime.artifacts.cache.renders == 0
    await runware.client.get(items[0]["imageURL"])
    assert runware.runtime.artifacts.cache.renders == 1


async def test_unknown_keys_are_served_with_warnings_and_platform_keys_with_notes(runware: Runware) -> None:
    task = inference(settings={"x": 1}, routing={"y": 2}, advancedFeatures={}, somethingNew=True)
    task["providerSettings"] = {"bytedance": {"maxSequentialImages": 1, "futureKnob": 3}, "other": {}}
    assert (await runware.create(task)).status_code == 200
    [entry] = runware.entries()
    assert len(entry.warnings) == 3
    assert all("production may refuse it" in warning and "bytedance:5@0" in warning for warning in entry.warnings)
    assert [w.split("'")[1] for w in entry.warnings] == [
        "somethingNew",
        "providerSettings.bytedance.futureKnob",
        "providerSettings.other",
    ]
    assert [note.split("'")[1] for note in entry.notes] == ["settings", "routing", "advancedFeatures"]


async def test_seedream_45_accepts_free_sizes_within_its_pixel_bounds(runware: Runware) -> None:
    task = inference(model="bytedance:seedream@4.5", width=3840, height=2160)
    [item] = (await runware.create(task)).json()["data"]
    record = await runware.record(item)
    assert (record["width"], record["height"]) == (3840, 2160)


@pytest.mark.parametrize("resolution, size", [("2K", (2048, 2048)), ("4K", (4096, 4096))])
async def test_seedream_45_resolution_preset_without_references_is_square(
    runware: Runware, resolution: str, size: tuple[int, int]
) -> None:
    task = inference(model="bytedance:seedream@4.5", width=None, height=None, resolution=resolution)
    del task["width"], task["height"]
    [item] = (await runware.create(task)).json()["data"]
    record = await runware.record(item)
    assert (record["width"], record["height"]) == size


async def test_seedream_45_resolution_matches_the_first_reference_aspect(runware: Runware) -> None:
    from tests.support import data_uri

    task = inference(model="bytedance:seedream@4.5", resolution="4K", inputs={"referenceImages": [data_uri(160, 90)]})
    del task["width"], task["height"]
    [item] = (await runware.create(task)).json()["data"]
    record = await runware.record(item)
    assert (record["width"], record["height"], record["reference_count"]) == (5120, 2880, 1)


async def test_width_and_height_win_over_resolution(runware: Runware) -> None:
    task = inference(model="bytedance:seedream@4.5", resolution="4K", width=2048, height=3072)
    [item] = (await runware.create(task)).json()["data"]
    record = await runware.record(item)
    assert (record["width"], record["height"]) == (2048, 3072)


async def test_seedream_40_with_references_only_matches_their_aspect_at_2k(runware: Runware) -> None:
    from tests.support import data_uri

    task = inference(inputs={"referenceImages": [data_uri(90, 160)]})
    del task["width"], task["height"]
    [item] = (await runware.create(task)).json()["data"]
    record = await runware.record(item)
    assert (record["width"], record["height"]) == (1440, 2560)


async def test_url_references_without_dimensions_default_to_square(runware: Runware) -> None:
    task = inference(referenceImages=["https://assets.example.com/a.jpg"])
    del task["width"], task["height"]
    [item] = (await runware.create(task)).json()["data"]
    record = await runware.record(item)
    assert (record["width"], record["height"]) == (2048, 2048)


@pytest.mark.parametrize("envelope", ["flat", "data"])
async def test_webhook_receives_one_post_per_image(make_runware: RunwareFactory, envelope: str) -> None:
    runware = await make_runware(runware_webhook_envelope=envelope)
    task = inference(numberResults=3, webhookURL="https://hooks.example/runware?token=abc", includeCost=True)
    items = (await runware.create(task)).json()["data"]
    await runware.runtime.settle()
    requests = runware.receiver.requests
    assert len(requests) == 3
    assert {str(r.url) for r in requests} == {"https://hooks.example/runware?token=abc"}
    bodies = [__import__("json").loads(r.content) for r in requests]
    delivered = bodies if envelope == "flat" else [body["data"][0] for body in bodies]
    assert sorted(delivered, key=lambda i: i["seed"]) == sorted(items, key=lambda i: i["seed"])
    for body in delivered:
        assert contract_errors("runware", "imageInferenceResult", body) == []


async def test_webhook_is_retried_until_2xx(make_runware: RunwareFactory, clock: ManualClock) -> None:
    runware = await make_runware(clock=clock)
    runware.receiver.statuses = [500, 502, 503]
    await runware.create(inference(webhookURL="https://hooks.example/a"))
    deliveries = runware.runtime.webhooks.deliveries
    await drive(clock, lambda: bool(deliveries()) and deliveries()[0].state != "pending")
    [delivery] = deliveries()
    assert [a.status for a in delivery.attempts] == [500, 502, 503, 200]
    assert delivery.state == "delivered"
    gaps = [b.at - a.at for a, b in zip(delivery.attempts, delivery.attempts[1:], strict=False)]
    for gap, base in zip(gaps, [0.25, 0.5, 1.0], strict=False):
        assert base * 0.8 - 0.05 <= gap <= base * 1.2 + 0.05


async def test_upload_endpoint_receives_raw_image_bytes_by_put(runware: Runware) -> None:
    task = inference(outputFormat="PNG", uploadEndpoint="https://bucket.example/out.png?X-Amz-Signature=abc")
    [item] = (await runware.create(task)).json()["data"]
    await runware.runtime.settle()
    [request] = runware.receiver.requests
    assert request.method == "PUT"
    assert request.headers["content-type"] == "image/png"
    assert request.content == await runware.image(item)


async def test_sync_request_waits_for_the_whole_job(make_runware: RunwareFactory, clock: ManualClock) -> None:
    import asyncio

    runware = await make_runware(clock=clock, timing="realistic")
    pending = asyncio.create_task(runware.create(inference(numberResults=2)))
    await settle(50)
    assert not pending.done()
    clock.advance(60)
    response = await asyncio.wait_for(pending, 5)
    assert len(response.json()["data"]) == 2
