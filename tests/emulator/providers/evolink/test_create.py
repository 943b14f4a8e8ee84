import re
from decimal import Decimal

import pytest

from contracts.counts import ask
from emulator import read_metadata
from emulator.core.clock import ManualClock

from .conftest import MODEL, EvoLink, EvoLinkFactory, auth, body, error_of

TASK_ID = re.compile(r"^task-unified-(\d+)-[a-z0-9]{8}$")


async def test_create_replies_with_the_bare_pending_task_object(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(clock=ManualClock(1_757_165_031.75))
    reply = await evolink.created(n=2)
    assert list(reply) == ["created", "id", "model", "object", "progress", "status", "task_info", "type", "usage"]
    assert reply["created"] == 1_757_165_031
    match = TASK_ID.match(reply["id"])
    assert match and int(match.group(1)) == reply["created"]
    assert (reply["model"], reply["object"], reply["type"]) == (MODEL, "image.generation.task", "image")
    assert (reply["status"], reply["progress"]) == ("pending", 0)
    assert reply["task_info"] == {"can_cancel": True, "estimated_time": 0}
    assert reply["usage"] == {"billing_rule": "per_call", "credits_reserved": 3.6, "user_group": "default"}


@pytest.mark.parametrize("n", range(1, 16))
async def test_credits_reserved_are_n_times_the_unit_price(evolink: EvoLink, n: int) -> None:
    reply = await evolink.created(n=n, prompt=f"generate {n} images")
    assert Decimal(str(reply["usage"]["credits_reserved"])) == n * Decimal("1.8"), (
        "no float noise such as 23.400000000000002"
    )


async def test_completed_task_lists_downloadable_result_urls(evolink: EvoLink) -> None:
    task = await evolink.finished(n=2, prompt=ask("a lighthouse", 2), size="1:1", quality="1K")
    assert (task["progress"], task["task_info"]) == (100, {"can_cancel": False})
    assert "usage" not in task, "the seed documents usage on the create reply only"
    assert len(task["results"]) == 2
    for index, url in enumerate(task["results"]):
        assert url.startswith("http://testserver/files/") and url.endswith(".jpg")
        image = await evolink.client.get(url)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        record = read_metadata(image.content)
        assert (record["provider"], record["model"], record["job_id"], record["index"]) == (
            "evolink",
            MODEL,
            task["id"],
            index,
        )
        assert (record["width"], record["height"], record["reference_count"]) == (1024, 1024, 0)


async def test_ids_are_unique_and_the_same_seed_repeats_them(make_evolink: EvoLinkFactory) -> None:
    runs = []
    for _ in range(2):
        evolink = await make_evolink(seed=99, clock=ManualClock(1_760_000_000))
        runs.append([(await evolink.created())["id"] for _ in range(5)])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) == 5


async def test_unknown_fields_are_ignored(evolink: EvoLink) -> None:
    assert (await evolink.create(body(seed=3, watermark=False, response_format="url"))).status_code == 200


@pytest.mark.parametrize("model", ["doubao-seedream-4.5", "seedream-4.0", "DOUBAO-SEEDREAM-4.0", ""])
async def test_unknown_model_is_404_specified_model_not_found(evolink: EvoLink, model: str) -> None:
    response = await evolink.create(body(model=model))
    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["type"], error["param"]) == (404, "not_found_error", "model")
    assert error["message"].startswith("Specified model not found")
    assert error["fallback_suggestion"] == MODEL


async def test_unknown_model_is_400_with_string_codes(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(evolink_error_codes="string")
    error = error_of(await evolink.create(body(model="gpt-image-1")))
    assert (error["code"], error["type"], error["param"]) == ("invalid_request", "invalid_request_error", "model")


async def test_one_provider_serves_evolink_at_the_root(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(provider="evolink")
    assert evolink.path("/v1/tasks/x") == "/v1/tasks/x"
    reply = await evolink.finished()
    assert (await evolink.client.get(reply["results"][0])).status_code == 200
    assert (await evolink.client.get("/evolink/v1/tasks/x", headers=auth())).status_code == 404
    health = (await evolink.client.get("/_emulator/health")).json()
    assert health["surfaces"]["evolink"] == {
        "create": "http://testserver/v1/images/generations",
        "query": "http://testserver/v1/tasks/{task_id}",
    }


async def test_public_url_is_the_base_of_result_urls(make_evolink: EvoLinkFactory) -> None:
    evolink = await make_evolink(public_url="https://evo.example:8443")
    task = await evolink.finished()
    assert task["results"][0].startswith("https://evo.example:8443/files/")


async def test_journal_records_route_ids_and_violations(evolink: EvoLink) -> None:
    task = await evolink.created()
    await evolink.query(task["id"])
    await evolink.create(body(n=0, prompt=""))
    entries = evolink.entries()
    assert [entry.route for entry in entries] == [
        "POST /v1/images/generations",
        "GET /v1/tasks/{task_id}",
        "POST /v1/images/generations",
    ]
    assert entries[0].ids == [task["id"]] and entries[1].ids == [task["id"]]
    assert entries[0].valid and not entries[2].valid
    assert {violation["path"] for violation in entries[2].violations} == {"/n", "/prompt"}


async def test_images_use_seeded_random_seeds(make_evolink: EvoLinkFactory) -> None:
    seeds = []
    for _ in range(2):
        evolink = await make_evolink(seed=5)
        task = await evolink.finished(n=3, size="1:1", quality="1K", prompt="generate 3 images")
        seeds.append([(await evolink.record(url))["seed"] for url in task["results"]])
    assert seeds[0] == seeds[1] and len(set(seeds[0])) == 3
