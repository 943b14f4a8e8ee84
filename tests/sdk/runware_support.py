"""What the Runware SDK tests share: task builders, image checks and the mid-task drop."""

from __future__ import annotations

import base64
import time
import urllib.request
from typing import Any

from emulator import read_metadata
from emulator.core.clock import ManualClock
from tests.emulator.providers.runware.conftest import sessions
from tests.sdk.live import LiveEmulator


def t2i(model: str = "bytedance:5@0", **fields: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"taskType": "imageInference", "model": model, "positivePrompt": "a porcelain dragon bakery"}
    if model == "bytedance:5@0":
        task.update(width=2304, height=1728)
    else:
        task.update(resolution="2K")
    task.update(fields)
    return task


def image_bytes(item: dict[str, Any]) -> bytes:
    if item.get("imageURL"):
        with urllib.request.urlopen(item["imageURL"], timeout=10) as response:
            return response.read()
    if item.get("imageDataURI"):
        return base64.b64decode(item["imageDataURI"].split(",", 1)[1])
    return base64.b64decode(item["imageBase64Data"])


def evidence(item: dict[str, Any]) -> dict[str, Any]:
    return read_metadata(image_bytes(item))


def wait_for(condition: Any, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def drop_mid_task(live: LiveEmulator, clock: ManualClock) -> str:
    """Once a task reaches the emulator, cut every Runware socket and let the job finish meanwhile.

    Returns the task's UUID. The job's clock is manual, so the task is still queued when the drop
    happens; the SDK must reconnect and recover to get its images.
    """

    def task_seen() -> str | None:
        for entry in live.runtime.journal.entries(surface="runware"):
            if entry.transport == "ws" and entry.ids:
                return entry.ids[0]
        return None

    task_uuid = wait_for(task_seen, what="the task to arrive")
    for channel in live.run(sessions(live.surface("runware")).attached):
        live.call(channel.drop())
    # Long enough for the job to finish, well inside the 120 s a detached session keeps its results: advancing
    # the whole 120 s expired the session whenever the SDK reconnected after the advance (a flaky test).
    clock.advance(60)
    return task_uuid
