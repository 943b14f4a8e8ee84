"""A task query racing the end of its task."""

from __future__ import annotations

from tests.stepping import SteppingClock

from .conftest import EvoLinkFactory, body


async def test_a_query_shows_one_moment_so_progress_never_decreases(make_evolink: EvoLinkFactory) -> None:
    """A task whose reference cannot be downloaded fails after its first image, before its planned run time is up;
    a query that found it processing an instant before must not have reached further than the failed task keeps."""
    step = 0.5
    clock = SteppingClock()
    evolink = await make_evolink(clock=clock, timing="realistic")
    task = await evolink.created(
        **body(n=4, prompt="generate 4 images of a kite", image_urls=["https://cdn.invalid/x.png"])
    )
    job = evolink.service.find(task["id"]).job
    assert job is not None and job.next_step_at is not None
    clock.set(job.next_step_at)  # it starts
    evolink.service.query(task["id"])
    assert job.next_step_at is not None
    clock.set(job.next_step_at - step / 2)  # it fails in the middle of the next query's two readings of time
    clock.step = step
    before = evolink.service.query(task["id"])
    after = evolink.service.query(task["id"])
    assert (before["status"], after["status"]) == ("processing", "failed")
    assert before["progress"] <= after["progress"], (before["progress"], after["progress"])
