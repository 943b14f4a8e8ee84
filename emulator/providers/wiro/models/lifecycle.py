"""A task's statuses, drawn from its job's events.

The engine knows queued -> running -> image outputs -> succeeded / failed / canceled; `rules.json` (`lifecycle`)
says which Wiro statuses each of those events stands for. Every status becomes one socket frame and fills its
timestamp in the record; a terminal one sends the callback. After success the outputs are stored (Wiro's CDN
upload), which ends the task with `task_postprocess_end`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from contracts import fill
from contracts.wiro import rules
from emulator.core.artifacts import Artifact
from emulator.core.http import dumps
from emulator.core.jobs import Event, Failure, Job, State
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from ..wire import SURFACE, detail_reply, stamp

if TYPE_CHECKING:
    from .tasks import WiroTask

logger = logging.getLogger(__name__)
LIFECYCLE = rules.LIFECYCLE
TIMESTAMPS: Mapping[str, str] = LIFECYCLE["timestamps"]
TERMINAL = frozenset(LIFECYCLE["terminal"])
CANCELED = frozenset(LIFECYCLE["canceled"])
CALLBACK_POLICY = RetryPolicy.from_spec(rules.RULES["callback"])


class Lifecycle:
    def __init__(self, runtime: Runtime, *, callback_body: str, artifact_ttl: float) -> None:
        self.runtime = runtime
        self.callback_body = callback_body
        self.artifact_ttl = artifact_ttl

    def queued(self, task: WiroTask) -> None:
        self._enter(task, LIFECYCLE["queued"], task.created_at)

    def on_event(self, job: Job, event: Event) -> None:
        task: WiroTask = job.data
        if event.kind == "output" and event.index is not None:
            self._output(task, event.index, event.at)
        elif event.state is State.RUNNING:
            self._enter(task, LIFECYCLE["running"], event.at)
        elif event.state is State.SUCCEEDED:
            task.pexit = "0"
            self._enter(task, LIFECYCLE["succeeded"], event.at)
            task.postprocess = self.runtime.spawn(self._postprocess(task))
        elif event.state is State.FAILED:
            task.pexit = LIFECYCLE["failureExitCode"]
            task.stderr = _stderr(job.failure)
            self._enter(task, LIFECYCLE["failed"], event.at)
            self._enter(task, LIFECYCLE["postprocessed"], event.at)
        elif event.state is State.CANCELED:
            self._enter(task, LIFECYCLE["canceled"], event.at)

    def _output(self, task: WiroTask, index: int, at: float) -> None:
        count = len(task.specs)
        done = index + 1
        task.outputs_made = done
        elapsed = max(0.0, at - task.times.get("starttime", at))
        progress = {
            "type": "progressGenerate",
            "task": "Generate",
            "percentage": str(round(100 * done / count)),
            "stepCurrent": str(done),
            "stepTotal": str(count),
            "speed": f"{done / elapsed:.2f}" if elapsed > 0 else "0.00",
            "speedType": "it/s",
            "elapsedTime": f"{elapsed:.0f}s",
            "remainingTime": f"{elapsed / done * (count - done):.0f}s",
        }
        task.stdout.append(f"Generate: {done}/{count} images ({progress['percentage']}%)")
        for status in LIFECYCLE["output"]:
            self._emit(task, status, at, progress)

    async def _postprocess(self, task: WiroTask) -> None:
        """Store the outputs (the CDN upload of the real service): render each image once to learn its size."""
        outputs = []
        try:
            made = task.specs[: task.outputs_made]
            rendered = await asyncio.gather(*(self.runtime.render(spec) for spec in made))
            for index, (spec, data) in enumerate(zip(made, rendered, strict=True)):
                artifact = self.runtime.artifacts.add_generated(task.output_ids[index], spec, self.artifact_ttl)
                outputs.append(self._output_record(task, index, len(data), artifact))
        except Exception as exc:  # an emulator fault must still end the task, visibly, as a failed one
            logger.exception("Wiro postprocess failed for task %s", task.id)
            task.pexit = LIFECYCLE["failureExitCode"]
            task.stderr = str(fill(LIFECYCLE["postprocessFailure"], {"error": f"{type(exc).__name__}: {exc}"}))
        else:
            task.outputs = outputs
            task.billed = True
        self._enter(task, LIFECYCLE["postprocessed"], self.runtime.clock.now())

    def _output_record(self, task: WiroTask, index: int, size: int, artifact: Artifact) -> dict[str, Any]:
        now = stamp(self.runtime.clock.now())
        return {
            "id": task.output_ids[index],
            "name": f"{index}.{artifact.extension}",
            "contenttype": artifact.media_type,
            "parentid": task.folder_id,
            "uuid": task.uuid,
            "size": str(size),
            "addedtime": now,
            "modifiedtime": now,
            "accesskey": task.access_keys[index],
            "foldercount": "0",
            "filecount": "0",
            "ispublic": 0,
            "expiretime": None,
            "url": self.runtime.file_url(task.base_url, artifact),
        }

    def _enter(self, task: WiroTask, statuses: Sequence[str], at: float) -> None:
        for status in statuses:
            self._emit(task, status, at, _message(task, status))

    def _emit(self, task: WiroTask, status: str, at: float, message: Any) -> None:
        task.status = status
        stamp_name = TIMESTAMPS.get(status)
        if stamp_name is not None:
            task.times.setdefault(stamp_name, at)
        terminal = status in TERMINAL
        exit_code = int(task.pexit) if terminal and status not in CANCELED and task.pexit else None
        task.frames.append(
            {
                "type": status,
                "id": task.id,
                "tasktoken": task.token,
                "message": message,
                "result": True,
                "success": (exit_code == 0) if terminal else None,
                "terminal": terminal,
                "exitCode": exit_code,
            }
        )
        if terminal:
            self._callback(task, status)

    def _callback(self, task: WiroTask, status: str) -> None:
        if not task.callback_url:
            return
        record = task.record(self.runtime.clock.now())
        body = record if self.callback_body == "task" else detail_reply(record)
        self.runtime.webhooks.send(
            surface=SURFACE,
            url=task.callback_url,
            body=dumps(body),
            policy=CALLBACK_POLICY,
            event=status,
            job_id=task.uuid,
            headers={"Content-Type": "application/json"},
            context=task.context,
        )


def _message(task: WiroTask, status: str) -> Any:
    if status == "task_output_full":
        return {"raw": "\n".join(task.stdout)}
    if status == "task_error_full":
        return {"raw": task.stderr}
    if status == "task_error":
        return task.stderr
    if status == "task_postprocess_end":
        return task.outputs
    return None


def _stderr(failure: Failure | None) -> str:
    """What a failed task prints: the rule's message, or the text for its failure kind."""
    return Failure.text(failure, rules.RULES["failures"])
