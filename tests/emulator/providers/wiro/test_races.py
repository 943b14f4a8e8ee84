"""Task/Detail racing the end of its task."""

from __future__ import annotations

from tests.stepping import SteppingClock

from .conftest import WiroFactory


async def test_a_detail_shows_one_moment_so_elapsed_seconds_never_decrease(make_wiro: WiroFactory) -> None:
    """`elapsedseconds` grows while the task runs and stops at its end; a Detail that found the task running an
    instant before it ended must not show more than the ended task keeps."""
    step = 0.5
    clock = SteppingClock()
    wiro = await make_wiro(clock=clock, timing="realistic")
    taskid = (await wiro.create())["taskid"]
    task = wiro.stored(taskid)
    tasks = wiro.service.tasks
    body = {"taskid": taskid}
    job = task.job
    assert job is not None and job.next_step_at is not None
    clock.set(job.next_step_at)  # it starts
    tasks.detail(task.project, body)
    assert job.next_step_at is not None  # its one image, and with it its end
    clock.set(job.next_step_at - step / 2)  # it ends in the middle of the next Detail's two readings of time
    clock.step = step
    before = tasks.detail(task.project, body)
    after = tasks.detail(task.project, body)
    assert (before["status"], after["status"]) == ("task_start", "task_postprocess_start")
    assert float(before["elapsedseconds"]) <= float(after["elapsedseconds"]), (before, after)
