"""EvoLink's domain: create bodies in, task objects out, callbacks on terminal states. Transport-neutral.

The service composes the parts: `tasks` (the record and the objects clients see), `references` (what the emulator
makes of reference images) and `callbacks` (delivery on terminal states).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts import Violation, fill, load
from contracts.evolink import rules
from emulator.core.directives import extract
from emulator.core.faults import Context
from emulator.core.jobs import Event, Failure, Job, Overloaded, Plan, State
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime

from .. import errors
from ..errors import EvoLinkError
from . import callbacks, references, tasks
from .callbacks import CALLBACK_POLICY
from .tasks import SURFACE, EvoTask

__all__ = ["CALLBACK_POLICY", "SURFACE", "Created", "EvoLinkService", "EvoTask"]

CONTRACT = load("evolink")
RULES = rules.RULES
OUTPUT = RULES["output"]
TASK_ID = RULES["taskId"]


@dataclass(frozen=True)
class Created:
    """What a create request yields: the task id, its reply body, and the journal warnings it earned."""

    id: str
    view: dict[str, Any]
    warnings: list[str]


class EvoLinkService:
    def __init__(self, runtime: Runtime, *, result_ttl: float | None = None, max_tasks: int = 100_000) -> None:
        self.runtime = runtime
        self.result_ttl = float(result_ttl if result_ttl is not None else RULES["resultValiditySeconds"])
        self._tasks: Retained[str, EvoTask] = runtime.retained("evolink.tasks", max_tasks, lambda task: task.done)

    def authenticate(self, token: str | None, situation: str = "unauthorized") -> str:
        """Any non-empty Bearer token, or one of `--api-key` when given."""
        if token is None or not self.runtime.keys.allows(token):
            raise EvoLinkError(situation)
        return token

    def violations(self, body: Any) -> tuple[list[Violation], list[str]]:
        validator = CONTRACT.validator("imageGeneration")
        if not validator.is_valid(body):
            return validator.violations(body), []
        targets = self.runtime.targets
        callback = body.get("callback_url")
        exempt = isinstance(callback, str) and targets.exempted(callback)
        return rules.check(body, strict=targets.strict, exempt=exempt)

    def check(self, body: Any) -> list[str]:
        """Fidelity warnings for a body that meets the contract; an EvoLinkError for the first violation otherwise."""
        found, warnings = self.violations(body)
        if found:
            error = errors.from_violation(found[0])
            error.violations = found
            raise error
        return warnings

    def context(self, route: str, api_key: str | None, body: Any, entry: Entry | None = None) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        fields = body if isinstance(body, dict) else {}
        return self.runtime.context(
            SURFACE, route, prompt=fields.get("prompt"), model=fields.get("model"), api_key=api_key, entry=entry
        )

    async def create(self, body: Any, base_url: str, context: Context) -> Created:
        """A create request whose key and admission are settled: the accepted task's reply, or an EvoLinkError."""
        if not isinstance(body, dict):
            found, _ = self.violations(body)
            error = errors.not_an_object()
            error.violations = found
            raise error
        warnings = self.check(body)
        task = await self.submit(body, base_url, context)
        return Created(task.id, tasks.created_view(task), [*warnings, *task.warnings])

    def query(self, task_id: str) -> dict[str, Any]:
        """The task-query reply as of now: one reading of the clock, or a task that ends between two readings would
        show the progress of a moment it never reached while processing."""
        now = self.runtime.clock.now()
        task = self.find(task_id, now)
        assert task.job is not None
        return tasks.view(task, task.job, now)

    async def submit(self, body: Mapping[str, Any], base_url: str, context: Context | None = None) -> EvoTask:
        """Start the task of a checked body. Reference images are checked here, where they are decoded."""
        urls = list(body.get("image_urls") or [])
        found = await references.read(self.runtime, urls, base_url)
        first_visible = next((ref.size for ref in found if ref.size is not None), None)
        width, height = rules.output_size(body, first_visible)
        count = rules.image_count(body, self.runtime.image_count)
        now = self.runtime.clock.now()
        task_id = self._new_id(int(now))
        context = (context or Context(SURFACE)).with_job(task_id)
        prompt = extract(body["prompt"])[0]
        specs = [
            GenerationSpec.create(
                prompt=prompt,
                provider=SURFACE,
                model=rules.MODEL,
                job_id=task_id,
                index=index,
                seed=self.runtime.ids.uint32(),
                width=width,
                height=height,
                format=OUTPUT["format"],
                quality=OUTPUT["quality"],
                reference_count=len(urls),
            )
            for index in range(count)
        ]
        plan = self.runtime.plan(width * height, count)
        run_seconds = max(plan.output_offsets, default=0.0)
        broken = next((ref for ref in found if not ref.reachable), None)
        if broken is not None:
            # The download fails when the worker fetches the references: after the first image's time.
            spec = tasks.TASK_ERRORS["imageDownload"]
            failure = Failure(spec["code"], fill(spec["message"], {"url": broken.url}))
            plan = Plan(plan.queue_seconds, plan.output_offsets[:1], failure=failure)
        task = EvoTask(
            id=task_id,
            created=int(now),
            model=body["model"],
            n=int(body.get("n", rules.DEFAULTS["n"])),
            base_url=base_url,
            callback_url=body.get("callback_url"),
            warnings=[ref.warning for ref in found if ref.warning],
            run_seconds=run_seconds,
            estimated_seconds=plan.queue_seconds + run_seconds,
            specs=specs,
            artifact_ids=[self.runtime.ids.uuid4() for _ in specs],
            context=context,
        )
        try:
            task.job = self.runtime.start_job(context, plan, data=task, listener=self._on_event)
        except Overloaded as exc:
            raise errors.rate_limited(exc) from None
        self._tasks.put(task.id, task)
        return task

    def find(self, task_id: str, now: float | None = None) -> EvoTask:
        """A known, unexpired task, advanced to `now` (the clock's, unless given)."""
        if not task_id.startswith(TASK_ID["prefix"]):
            raise EvoLinkError("invalidTaskId")
        task = self._tasks.get(task_id)
        if task is None or task.job is None:
            raise EvoLinkError("taskNotFound")
        now = self.runtime.clock.now() if now is None else now
        task.job.refresh(now)
        finished = task.job.finished_at
        if finished is not None and now >= finished + self.result_ttl:
            self._tasks.pop(task_id)
            raise EvoLinkError("taskNotFound")
        return task

    def reset(self) -> None:
        self._tasks.clear()

    def _on_event(self, job: Job, event: Event) -> None:
        """On a terminal state: results become downloadable for their validity, and the callback goes out."""
        if event.kind != "state" or not event.state.terminal:
            return
        task: EvoTask = job.data
        lag = self.runtime.clock.now() - event.at
        if event.state is State.SUCCEEDED:
            made = job.outputs_ready
            for artifact_id, spec in zip(task.artifact_ids[:made], task.specs[:made], strict=True):
                self.runtime.artifacts.add_generated(artifact_id, spec, self.result_ttl - lag)
        callbacks.send(self.runtime, task, job, event)

    def _new_id(self, created: int) -> str:
        while True:
            suffix = self.runtime.ids.token(TASK_ID["suffixLength"], TASK_ID["alphabet"])
            task_id = f"{TASK_ID['prefix']}{created}-{suffix}"
            if task_id not in self._tasks:
                return task_id
