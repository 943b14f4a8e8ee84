"""getResponse racing the end of its task."""

from __future__ import annotations

import asyncio

import pytest

from emulator.core.clock import ManualClock
from emulator.core.render import GenerationSpec
from tests.support import inference

from .conftest import RunwareFactory


async def test_a_poll_racing_the_last_image_never_answers_a_finished_task_short_of_images(
    make_runware: RunwareFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """base64 items render their image while the reply is built; the task finishing meanwhile must not turn the
    reply into "finished with one image of two": the reply shows the task as it was when the poll read it."""
    clock = ManualClock()
    runware = await make_runware(clock=clock, timing="realistic")
    task = inference(
        deliveryMethod="async",
        outputType="base64Data",
        positivePrompt="a cat, generate 2 images",
        providerSettings={"bytedance": {"maxSequentialImages": 2}},
        width=1024,
        height=1024,
    )
    assert (await runware.create(task)).status_code == 200
    job = runware.runtime.jobs.get(task["taskUUID"])
    assert job is not None
    while job.outputs_ready < 1:
        assert job.next_step_at is not None
        clock.set(job.next_step_at)
        job.refresh(clock.now())
    rendering, rendered = asyncio.Event(), asyncio.Event()
    render = runware.runtime.render

    async def slow_render(spec: GenerationSpec) -> bytes:
        rendering.set()
        await rendered.wait()
        return await render(spec)

    monkeypatch.setattr(runware.runtime, "render", slow_render)
    polling = asyncio.ensure_future(runware.poll(task["taskUUID"]))
    await rendering.wait()  # the poll renders image 0 ...
    clock.advance(60)  # ... while the task makes image 1 and ends
    job.refresh(clock.now())
    rendered.set()
    assert job.state.terminal and job.outputs_ready == 2
    racing = [item["status"] for item in (await polling).json()["data"]]
    assert racing == ["success", "processing"]
    after = [item["status"] for item in (await runware.poll(task["taskUUID"])).json()["data"]]
    assert after == ["success", "success"]
