"""Every response shape of the Replicate surface validates against its schema (reference jsonschema)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from emulator.core.clock import ManualClock
from tests.conftest import EmulatorFactory
from tests.support import contract_errors, data_uri, drive

AUTH = {"Authorization": "Bearer r8_contract"}
MODEL = "/replicate/v1/models/bytedance/seedream-4/predictions"


async def test_every_reply_matches_its_contract(make_emulator: EmulatorFactory, clock: ManualClock) -> None:
    emulator = await make_emulator(clock=clock, timing="realistic")
    client = emulator.client
    checked: dict[str, int] = {}

    def check(schema: str, body: Any) -> None:
        assert contract_errors("replicate", schema, body) == [], (schema, body)
        checked[schema] = checked.get(schema, 0) + 1

    hook = {"webhook": "https://hooks.example.com/h"}
    started = (await client.post(MODEL, json={"input": {"prompt": "x", "size": "1K"}, **hook}, headers=AUTH)).json()
    failed = (
        await client.post(MODEL, json={"input": {"prompt": "x", "image_input": ["ftp://x/y"]}, **hook}, headers=AUTH)
    ).json()
    canceled = (
        await client.post(MODEL, json={"input": {"prompt": "x"}}, headers={**AUTH, "Cancel-After": "10s"})
    ).json()
    for body in (started, failed, canceled):
        check("prediction", body)
        assert body["status"] == "starting"
    clock.advance(0.6)
    processing = (await client.get(f"/replicate/v1/predictions/{started['id']}", headers=AUTH)).json()
    assert processing["status"] == "processing"
    check("prediction", processing)
    check("prediction", (await client.post(f"/replicate/v1/predictions/{canceled['id']}/cancel", headers=AUTH)).json())

    def completed() -> bool:
        events = [d.event for d in emulator.runtime.webhooks.deliveries()]
        return events.count("completed") == 2

    await drive(clock, completed, step=0.25, limit=30)
    await emulator.runtime.settle()
    for prediction_id in (started["id"], failed["id"]):
        body = (await client.get(f"/replicate/v1/predictions/{prediction_id}", headers=AUTH)).json()
        check("prediction", body)
    assert {json.loads(r.content)["status"] for r in emulator.receiver.requests} >= {"starting", "succeeded", "failed"}
    for request in emulator.receiver.requests:
        check("prediction", json.loads(request.content))
    held = asyncio.ensure_future(
        client.post(
            MODEL,
            json={"input": {"prompt": "x", "size": "1K", "image_input": [data_uri()]}},
            headers={**AUTH, "Prefer": "wait=1"},
        )
    )
    await drive(clock, held.done, step=0.25, limit=5)
    check("prediction", (await held).json())
    check("predictionPage", (await client.get("/replicate/v1/predictions", headers=AUTH)).json())

    uploaded = await client.post("/replicate/v1/files", files={"content": ("a.png", b"png", "image/png")}, headers=AUTH)
    check("file", uploaded.json())
    check("file", (await client.get(uploaded.json()["urls"]["get"], headers=AUTH)).json())
    check("filePage", (await client.get("/replicate/v1/files", headers=AUTH)).json())
    check("model", (await client.get("/replicate/v1/models/bytedance/seedream-4", headers=AUTH)).json())
    versions = (await client.get("/replicate/v1/models/bytedance/seedream-4/versions", headers=AUTH)).json()
    check("versionPage", versions)
    check(
        "version",
        (
            await client.get(
                f"/replicate/v1/models/bytedance/seedream-4/versions/{versions['results'][0]['id']}", headers=AUTH
            )
        ).json(),
    )
    check("account", (await client.get("/replicate/v1/account", headers=AUTH)).json())
    check("webhookSecret", (await client.get("/replicate/v1/webhooks/default/secret", headers=AUTH)).json())

    problems = [
        await client.get("/replicate/v1/account"),
        await client.get("/replicate/v1/predictions/none", headers=AUTH),
        await client.get("/replicate/v1/files/none", headers=AUTH),
        await client.put("/replicate/v1/account", headers=AUTH),
        await client.post(MODEL, content=b"{", headers=AUTH),
        await client.post(MODEL, json={"input": {}}, headers=AUTH),
        await client.post(MODEL, json={"input": {"prompt": "x"}}, headers={**AUTH, "Cancel-After": "1s"}),
        await client.post(
            "/replicate/v1/predictions", json={"version": "nope", "input": {"prompt": "x"}}, headers=AUTH
        ),
        await client.get("/replicate/v1/predictions?cursor=zzz", headers=AUTH),
        await client.post("/replicate/v1/files", json={}, headers=AUTH),
    ]
    assert [r.status_code for r in problems] == [401, 404, 404, 405, 400, 422, 400, 422, 404, 400]
    for response in problems:
        assert response.headers["content-type"] == "application/problem+json"
        check("problem", response.json())
    assert set(checked) == {
        "prediction",
        "predictionPage",
        "file",
        "filePage",
        "model",
        "version",
        "versionPage",
        "account",
        "webhookSecret",
        "problem",
    }
