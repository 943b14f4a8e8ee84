"""A prediction's JSON at one moment, and its outputs written as data URIs or file URLs."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from contracts.replicate import rules
from emulator.core import images
from emulator.core.artifacts import ArtifactStore
from emulator.core.jobs import Failure, Job, State
from emulator.core.runtime import Runtime

if TYPE_CHECKING:
    from .predictions import Prediction

SURFACE = "replicate"
RULES = rules.RULES
MODEL = rules.MODEL
STATUS: Mapping[State, str] = {
    State.QUEUED: "starting",
    State.RUNNING: "processing",
    State.SUCCEEDED: "succeeded",
    State.FAILED: "failed",
    State.CANCELED: "canceled",
}
FileOutputMode = Literal["auto", "data-uri", "url"]
Form = Literal["data-uri", "url", "sync"]
Purpose = Literal["sync", "get", "list", "webhook"]


def timestamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Answer:
    """What a request gets back: the JSON body and, for its journal entry, the ids it named and the remarks it
    earned (`warnings`: leniency a client must not rely on; `notes`: everything else)."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass
class Snapshot:
    """A prediction's JSON at one moment, outputs still to be encoded (data URIs or URLs)."""

    prediction: Prediction
    body: dict[str, Any]
    with_output: bool
    made: int = 0


class Views:
    def __init__(self, runtime: Runtime, *, file_output: FileOutputMode = "auto", emit_aborted: bool = False) -> None:
        self.runtime = runtime
        self.file_output = file_output
        self.emit_aborted = emit_aborted

    def starting(self, prediction: Prediction, api_base: str | None = None) -> Snapshot:
        """The prediction as it was at creation: what async creates and timed-out sync waits return."""
        body = _envelope(prediction)
        body.update(logs="", output=None, data_removed=False, error=None, status="starting")
        return Snapshot(prediction, self._finish(prediction, body, api_base), with_output=False)

    def snapshot(self, prediction: Prediction, job: Job, api_base: str | None = None) -> Snapshot:
        now = self.runtime.clock.now()
        status = STATUS[job.state]
        if job.state is State.CANCELED and prediction.aborted and self.emit_aborted:
            status = "aborted"
        removed = job.state.terminal and now >= prediction.created_at + RULES["dataRemovalSeconds"]
        if removed and prediction.input:
            prediction.input = {}  # Replicate deletes it; so does the emulator, freeing the memory
        body = _envelope(prediction)
        body.update(logs=_logs(prediction, job), output=None, data_removed=removed, error=None, status=status)
        if job.state is State.FAILED:
            body["error"] = error_text(job.failure)
        body = self._finish(prediction, body, api_base)
        if job.started_at is not None:
            body["started_at"] = timestamp(job.started_at)
        if job.finished_at is not None:
            body["completed_at"] = timestamp(job.finished_at)
            metrics: dict[str, Any] = {"total_time": round(job.finished_at - prediction.created_at, 6)}
            if job.started_at is not None:
                metrics["predict_time"] = round(job.finished_at - job.started_at, 6)
            body["metrics"] = metrics
        return Snapshot(
            prediction, body, with_output=job.state is State.SUCCEEDED and not removed, made=job.outputs_ready
        )

    def form(self, purpose: Purpose) -> Form:
        """How output files are written (`replicate_file_output`). `auto`, as production: sync replies inline
        them (the official client wraps only https: and data: outputs as FileOutput, so over plain HTTP every
        file is inlined), while GET, list, cancel and webhooks hand out file URLs. `data-uri` inlines everywhere
        but in lists; `url` hands out URLs everywhere."""
        if self.file_output == "url" or purpose == "list":
            return "url"
        if self.file_output == "data-uri":
            return "data-uri"
        return "sync" if purpose == "sync" else "url"

    async def encode(self, snapshot: Snapshot, form: Form, base: str, budget: float | None = None) -> dict[str, Any]:
        """The snapshot's JSON with outputs filled in; TimeoutError when `budget` seconds (real time) run out."""
        body = dict(snapshot.body)
        if snapshot.with_output:
            outputs = [self._output(snapshot.prediction, index, form, base) for index in range(snapshot.made)]
            if budget is None:
                body["output"] = list(await asyncio.gather(*outputs))
            else:
                body["output"] = list(await asyncio.wait_for(asyncio.gather(*outputs), max(0.0, budget)))
        return body

    async def _output(self, prediction: Prediction, index: int, form: Form, base: str) -> str:
        spec = prediction.specs[index]
        url = ArtifactStore.url(base, prediction.artifact_ids[index], spec.extension)
        if form == "url":
            return url
        data = await self.runtime.render(spec)
        # Replicate inlines only small files in sync replies; over plain HTTP a URL would reach the
        # official client as a bare str (it wraps only https: and data:), so there every file is inlined.
        if form == "sync" and len(data) > RULES["output"]["syncDataUriMaxBytes"] and base.startswith("https:"):
            return url
        encoded = await images.offload(base64.b64encode, data, size=len(data))
        return f"data:{spec.media_type};base64,{encoded.decode('ascii')}"

    def _finish(self, prediction: Prediction, body: dict[str, Any], api_base: str | None) -> dict[str, Any]:
        body["source"] = "api"
        body["created_at"] = timestamp(prediction.created_at)
        body["urls"] = urls(prediction.id, api_base or prediction.api_base)
        if prediction.deadline is not None:
            body["deadline"] = timestamp(prediction.deadline)
        body.update(prediction.echo)
        return body


def urls(prediction_id: str, api_base: str) -> dict[str, str]:
    get = f"{api_base}/v1/predictions/{prediction_id}"
    return {"cancel": f"{get}/cancel", "get": get, "web": f"{api_base}/p/{prediction_id}"}


def error_text(failure: Failure | None) -> str:
    """The prediction's `error`: the failure's own message, or the text for its kind."""
    return Failure.text(failure, RULES["failures"])


def _envelope(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.id,
        "model": rules.MODEL_REF,
        "version": MODEL["predictionVersion"],
        "input": prediction.input,
    }


def _logs(prediction: Prediction, job: Job) -> str:
    """Log lines grow as the job runs; progress lines are tqdm-shaped so the client's `.progress` parses them."""
    total = len(prediction.specs)
    started = job.started_at or prediction.created_at
    lines: list[str] = []
    for event in job.timeline:
        if event.kind == "output" and event.index is not None:
            lines.append(_progress(event.index + 1, total, event.at - started))
        elif event.state is State.RUNNING and total:
            if prediction.enhance_prompt:
                lines.append("Enhancing prompt")
            lines.append(
                f"Generating {total} image(s) at {prediction.width}x{prediction.height} ({prediction.size_label})"
            )
        elif event.state is State.SUCCEEDED:
            lines.append(f"Generated {job.outputs_ready} image(s) in {event.at - started:.2f}s")
        elif event.state is State.FAILED and job.failure is not None:
            lines.append(f"Error: {error_text(job.failure)}")
    return "".join(line + "\n" for line in lines)


def _progress(done: int, total: int, elapsed: float) -> str:
    filled = done * 10 // total
    minutes, seconds = divmod(int(elapsed), 60)
    return (
        f"{done * 100 // total:3d}%|{'█' * filled}{' ' * (10 - filled)}| {done}/{total} [{minutes:02d}:{seconds:02d}]"
    )
