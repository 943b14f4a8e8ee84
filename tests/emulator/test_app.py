import io

import httpx
from PIL import Image

from emulator import Settings, create_app
from emulator.core.clock import ManualClock
from tests.conftest import Emulator, EmulatorFactory
from tests.emulator.providers.runware.conftest import Runware
from tests.support import inference


async def test_health_lists_every_surface_url(emulator: Emulator) -> None:
    body = (await emulator.client.get("/_emulator/health")).json()
    assert body["status"] == "ok"
    assert body["surfaces"]["runware"] == {
        "REST": "http://testserver/runware/v1",
        "WebSocket": "ws://testserver/runware/v1",
    }
    assert body["seed"] == 1 and body["timing"] == "instant"


async def test_single_provider_answers_at_the_root() -> None:
    app = create_app(Settings(provider="runware", timing="instant", seed=1, control_hosts=("testserver",)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.post("/v1", json=[inference()], headers={"Authorization": "Bearer k"})
        assert response.status_code == 200
        [item] = response.json()["data"]
        assert (await client.get(item["imageURL"])).status_code == 200
        assert (await client.get("/_emulator/health")).json()["surfaces"]["runware"]["REST"] == "http://testserver/v1"
    await app.state.emulator.runtime.aclose()


async def test_public_url_is_the_base_of_handed_out_urls(make_emulator: EmulatorFactory) -> None:
    emulator = await make_emulator(public_url="https://emulator.internal:9443/")
    [item] = (await Runware(emulator).create(inference())).json()["data"]
    assert item["imageURL"].startswith("https://emulator.internal:9443/files/")


async def test_files_answer_head_and_refuse_wrong_extensions(emulator: Emulator) -> None:
    [item] = (await Runware(emulator).create(inference(outputFormat="PNG"))).json()["data"]
    head = await emulator.client.head(item["imageURL"])
    assert head.status_code == 200 and head.headers["content-type"] == "image/png" and head.content == b""
    wrong = await emulator.client.get(item["imageURL"].replace(".png", ".jpg"))
    assert wrong.status_code == 404
    assert (await emulator.client.get("/files/nothing.jpg")).status_code == 404


async def test_instances_are_isolated(make_emulator: EmulatorFactory) -> None:
    first, second = await make_emulator(), await make_emulator()
    task = inference()
    [item] = (await Runware(first).create(task)).json()["data"]
    assert (await second.client.get(item["imageURL"])).status_code == 404
    assert (await Runware(second).create(task)).status_code == 200


async def test_reset_forgets_jobs_files_and_journal(emulator: Emulator) -> None:
    task = inference()
    [item] = (await Runware(emulator).create(task)).json()["data"]
    assert (await emulator.client.post("/_emulator/reset")).json() == {"status": "reset"}
    assert (await emulator.client.get(item["imageURL"])).status_code == 404
    assert (await Runware(emulator).create(task)).status_code == 200
    assert len(emulator.runtime.journal) == 2


async def test_journal_endpoint_filters_entries(emulator: Emulator) -> None:
    await Runware(emulator).create(inference())
    await Runware(emulator).create(inference(numberResults=0))
    entries = (await emulator.client.get("/_emulator/journal", params={"valid": "false"})).json()["entries"]
    assert len(entries) == 1
    assert entries[0]["violations"][0]["path"] == "/0/numberResults"


async def test_same_seed_gives_the_same_ids_in_the_same_order(
    make_emulator: EmulatorFactory, clock: ManualClock
) -> None:
    runs = []
    for _ in range(2):
        emulator = await make_emulator(seed=77)
        tasks = [inference(taskUUID=f"0b1f1c9e-1c3a-4d0c-8d4e-3b8f7a6c5d4{i}") for i in range(3)]
        runs.append([(await Runware(emulator).create(t)).json()["data"][0]["imageUUID"] for t in tasks])
    assert runs[0] == runs[1]


async def test_reference_fixtures_download_from_the_files_route(emulator: Emulator) -> None:
    response = await emulator.client.get("/files/fixture-120x80-webp.webp")
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(response.content)).size == (120, 80)
    assert (await emulator.client.get("/files/fixture-120x80-webp.png")).status_code == 404
