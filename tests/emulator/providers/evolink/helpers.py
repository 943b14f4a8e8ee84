"""Helpers for the EvoLink surface tests: valid bodies, create/query calls that check every reply against the contract."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Emulator
from tests.support import DROP, contract_errors

MODEL = "doubao-seedream-4.0"
CREATE = "/evolink/v1/images/generations"
TASKS = "/evolink/v1/tasks/"
KEY = "evo-test-key"


def body(**overrides: Any) -> dict[str, Any]:
    """A valid create body; `field=DROP` removes a field."""
    base: dict[str, Any] = {"model": MODEL, "prompt": "a paper boat on a puddle"}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not DROP}


def auth(key: str | None = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key is not None else {}


async def create(emulator: Emulator, payload: Any, key: str | None = KEY, prefix: str = "/evolink") -> httpx.Response:
    response = await emulator.client.post(f"{prefix}/v1/images/generations", json=payload, headers=auth(key))
    assert response.status_code < 500, response.text
    if response.status_code == 200:
        assert contract_errors("evolink", "task", response.json()) == []
    else:
        assert contract_errors("evolink", "error", response.json()) == []
    return response


async def query(emulator: Emulator, task_id: str, key: str | None = KEY, prefix: str = "/evolink") -> httpx.Response:
    response = await emulator.client.get(f"{prefix}/v1/tasks/{task_id}", headers=auth(key))
    assert response.status_code < 500, response.text
    schema = "task" if response.status_code == 200 else "error"
    assert contract_errors("evolink", schema, response.json()) == []
    return response


async def created(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    response = await create(emulator, body(**overrides))
    assert response.status_code == 200, response.json()
    return response.json()


async def finished(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    """Create with the instant timing of the shared fixture and return the completed task."""
    task = await created(emulator, **overrides)
    reply = (await query(emulator, task["id"])).json()
    assert reply["status"] == "completed", reply
    return reply


def error_of(response: httpx.Response) -> dict[str, Any]:
    payload = response.json()
    assert set(payload) == {"error"}, payload
    return payload["error"]


__all__ = ["DROP", "KEY", "MODEL", "auth", "body", "create", "created", "error_of", "finished", "query"]
