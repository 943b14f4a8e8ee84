"""fal's request record and the bodies clients see: the submit reply, statuses, results and logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts import fill
from contracts.fal import rules
from emulator.core.artifacts import ArtifactStore
from emulator.core.faults import Context
from emulator.core.jobs import Job, State
from emulator.core.render import GenerationSpec

SURFACE = "fal"
OUTPUT = rules.OUTPUT
LOGS = rules.RULES["logs"]


@dataclass
class FalRequest:
    """What the emulator remembers of an accepted request."""

    id: str
    app_id: str
    queue_base: str  # where this request's status, result and cancel URLs live
    files_base: str
    seed: int
    sync_mode: bool
    specs: list[GenerationSpec]
    artifact_ids: list[str]
    webhook_url: str | None = None
    context: Context = field(default_factory=lambda: Context(SURFACE), repr=False)
    job: Job | None = field(default=None, repr=False)
    warnings: list[str] = field(default_factory=list, repr=False)

    @property
    def owner_alias(self) -> str:
        owner, alias = self.app_id.split("/")[:2]
        return f"{owner}/{alias}"

    @property
    def done(self) -> bool:
        return self.job is None or self.job.state.terminal

    def url(self, suffix: str = "") -> str:
        return f"{self.queue_base}/{self.owner_alias}/requests/{self.id}{suffix}"


def submitted(request: FalRequest) -> dict[str, Any]:
    return {
        "status": "IN_QUEUE",
        "request_id": request.id,
        "gateway_request_id": request.id,
        "response_url": request.url(),
        "status_url": request.url("/status"),
        "cancel_url": request.url("/cancel"),
        "queue_position": rules.RULES["queuePosition"],
    }


def status(request: FalRequest, job: Job, with_logs: bool) -> tuple[int, dict[str, Any]]:
    """The status reply: 202 while queued or running, 200 once completed (with the error of a bad ending)."""
    body: dict[str, Any] = {
        "request_id": request.id,
        "response_url": request.url(),
        "status_url": request.url("/status"),
        "cancel_url": request.url("/cancel"),
    }
    if job.state is State.QUEUED:
        return 202, {"status": "IN_QUEUE", **body, "queue_position": rules.RULES["queuePosition"]}
    logs = log_lines(request, job) if with_logs else None
    if not job.state.terminal:
        return 202, {"status": "IN_PROGRESS", **body, "logs": logs}
    started = job.started_at if job.started_at is not None else job.created_at
    finished = job.finished_at if job.finished_at is not None else started
    completed: dict[str, Any] = {"status": "COMPLETED", **body, "logs": logs}
    completed["metrics"] = {"inference_time": round(finished - started, 3)} if job.state is State.SUCCEEDED else {}
    if job.state is not State.SUCCEEDED:
        kind, message = ending(job)
        completed["error"] = message
        completed["error_type"] = kind
    return 200, completed


def ending(job: Job) -> tuple[str, str]:
    """The error type and message of a request that did not succeed."""
    if job.state is State.CANCELED:
        spec = rules.RULES["jobErrors"]["cancelled"]
        return spec["type"], spec["detail"]
    failure = job.failure
    code = failure.code if failure is not None else "other"
    return code, (failure.message if failure is not None and failure.message else code)


def log_lines(request: FalRequest, job: Job) -> list[dict[str, Any]]:
    """What the app printed so far: its start, then one line per finished image."""
    if job.started_at is None:
        return []
    count = len(request.specs)
    first = request.specs[0] if request.specs else None
    size = {"width": first.width, "height": first.height} if first else {"width": 0, "height": 0}
    lines = [_log(job.started_at, fill(LOGS["started"], {"count": count, **size}))]
    for event in job.timeline:
        if event.kind == "output" and event.index is not None:
            lines.append(_log(event.at, fill(LOGS["image"], {"index": event.index + 1, "count": count})))
    return lines


def _log(at: float, message: str) -> dict[str, Any]:
    stamp = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"message": message, "level": LOGS["level"], "source": LOGS["source"], "timestamp": stamp}


def image(request: FalRequest, index: int, url: str | None = None) -> dict[str, Any]:
    spec = request.specs[index]
    artifact_id = request.artifact_ids[index]
    return {
        "url": url or ArtifactStore.url(request.files_base, artifact_id, spec.extension),
        "content_type": OUTPUT["contentType"],
        "file_name": f"{artifact_id}.{spec.extension}",
        "width": spec.width,
        "height": spec.height,
    }


def output(request: FalRequest, job: Job) -> dict[str, Any]:
    """The app's output with file URLs: the images made (a fault may make fewer) and the seed."""
    return {"images": [image(request, index) for index in range(job.outputs_ready)], "seed": request.seed}
