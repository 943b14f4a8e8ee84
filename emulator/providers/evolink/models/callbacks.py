"""`callback_url`: the task-query body POSTed when a task reaches one of the documented terminal states."""

from __future__ import annotations

from emulator.core.http import dumps
from emulator.core.jobs import Event, Job
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from .tasks import RULES, STATUS, SURFACE, EvoTask, view

CALLBACK_POLICY = RetryPolicy.from_spec(RULES["callback"])
EVENTS = RULES["callback"]["events"]


def send(runtime: Runtime, task: EvoTask, job: Job, event: Event) -> None:
    """Deliver the callback of a terminal `event`, if the task asked for one and EvoLink sends one for it."""
    status = STATUS[event.state]
    if not task.callback_url or status not in EVENTS:
        return
    runtime.webhooks.send(
        surface=SURFACE,
        url=task.callback_url,
        body=dumps(view(task, job, event.at)),
        policy=CALLBACK_POLICY,
        event=f"task.{status}",
        job_id=task.id,
        headers={"Content-Type": "application/json"},
        context=task.context,
    )
