"""EvoLink's task record and the task objects clients see: the create reply, query replies and callback bodies."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from contracts.evolink import rules
from emulator.core.artifacts import ArtifactStore
from emulator.core.faults import Context
from emulator.core.jobs import Job, State
from emulator.core.render import GenerationSpec

SURFACE = "evolink"
RULES = rules.RULES
PROGRESS = RULES["progress"]
TASK_ERRORS = RULES["taskErrors"]
BILLING = RULES["billing"]
STATUS = {
    State.QUEUED: "pending",
    State.RUNNING: "processing",
    State.SUCCEEDED: "completed",
    State.FAILED: "failed",
    State.CANCELED: "cancelled",
}


@dataclass
class EvoTask:
    """What the emulator remembers of an accepted generation."""

    id: str
    created: int
    model: str
    n: int
    base_url: str
    callback_url: str | None
    run_seconds: float
    estimated_seconds: float
    specs: list[GenerationSpec]
    artifact_ids: list[str]
    context: Context = field(default_factory=lambda: Context(SURFACE), repr=False)
    job: Job | None = field(default=None, repr=False)
    # Leniency met while accepting the task (references taken on trust), for the request's journal entry.
    warnings: list[str] = field(default_factory=list, repr=False)

    @property
    def done(self) -> bool:
        """No longer running: the task store may forget it."""
        return self.job is None or self.job.state.terminal


def created_view(task: EvoTask) -> dict[str, Any]:
    """The create reply: always the accepted, pending task, however fast the job runs."""
    body = _object(
        task,
        progress=PROGRESS["pending"],
        status=STATUS[State.QUEUED],
        task_info={"can_cancel": True, "estimated_time": math.ceil(task.estimated_seconds)},
    )
    # The seed documents `usage` on the create reply only; queries and callbacks carry none.
    body["usage"] = {
        "billing_rule": BILLING["billingRule"],
        "credits_reserved": rules.credits(task.n),
        "user_group": BILLING["userGroup"],
    }
    return body


def view(task: EvoTask, job: Job, now: float) -> dict[str, Any]:
    """The task-query reply (and callback body) as of `now`."""
    status = STATUS[job.state]
    if job.state.terminal:
        task_info: dict[str, Any] = {"can_cancel": False}
    else:
        remaining = job.created_at + task.estimated_seconds - now
        task_info = {"can_cancel": job.state is State.QUEUED, "estimated_time": max(0, math.ceil(remaining))}
    extra: dict[str, Any] = {}
    if job.state is State.SUCCEEDED:
        made = job.outputs_ready
        extra["results"] = [
            ArtifactStore.url(task.base_url, artifact_id, spec.extension)
            for artifact_id, spec in zip(task.artifact_ids[:made], task.specs[:made], strict=True)
        ]
    elif job.state in (State.FAILED, State.CANCELED):
        extra["error"] = task_error(job)
    return _object(task, progress=progress(task, job, now), status=status, task_info=task_info, **extra)


def progress(task: EvoTask, job: Job, now: float) -> int:
    """0 while pending, 10..99 while processing, 100 when completed; failed and cancelled tasks keep
    the value they had reached. Never decreases: it only grows with time and finished images."""
    if job.state is State.SUCCEEDED:
        return int(PROGRESS["completed"])
    if job.started_at is None:
        return int(PROGRESS["pending"])
    until = job.finished_at if job.finished_at is not None else now
    share = 1.0 if task.run_seconds <= 0 else min(1.0, max(0.0, (until - job.started_at) / task.run_seconds))
    if job.output_count:
        share = max(share, job.outputs_ready / job.output_count)
    first, last = PROGRESS["processingFirst"], PROGRESS["processingLast"]
    return int(first + math.floor((last - first) * share))


def task_error(job: Job) -> dict[str, Any]:
    """The `error` of a failed or cancelled task."""
    if job.state is State.CANCELED:
        spec = TASK_ERRORS["cancelled"]
        code, message = spec["code"], spec["message"]
    elif job.failure is not None:
        known = TASK_ERRORS["failures"].get(job.failure.code)
        code = known["code"] if known else job.failure.code
        message = job.failure.message or (known["message"] if known else TASK_ERRORS["unknown"]["message"])
    else:
        code, message = TASK_ERRORS["unknown"]["code"], TASK_ERRORS["unknown"]["message"]
    return {"code": code, "message": message, "type": TASK_ERRORS["type"]}


def _object(task: EvoTask, *, progress: int, status: str, task_info: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "created": task.created,
        "id": task.id,
        "model": task.model,
        "object": "image.generation.task",
        "progress": progress,
    }
    if "results" in extra:
        body["results"] = extra.pop("results")
    body["status"] = status
    body["task_info"] = task_info
    body["type"] = "image"
    body.update(extra)
    return body
