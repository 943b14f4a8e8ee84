"""EvoLink's domain: create bodies in, task objects out, callbacks on terminal states. Transport-neutral."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts import Violation, fill, load
from contracts.evolink import rules
from emulator.core import images
from emulator.core.artifacts import ArtifactStore
from emulator.core.directives import extract
from emulator.core.faults import Context, Rule
from emulator.core.jobs import Event, Failure, Job, Overloaded, Plan, State
from emulator.core.render import GenerationSpec
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from . import errors
from .errors import CodeStyle, EvoLinkError

SURFACE = "evolink"
CONTRACT = load("evolink")
RULES = rules.RULES
OUTPUT = RULES["output"]
PROGRESS = RULES["progress"]
TASK_ID = RULES["taskId"]
TASK_ERRORS = RULES["taskErrors"]
BILLING = RULES["billing"]
REFERENCES = RULES["referenceImages"]
STATUS = {
    State.QUEUED: "pending",
    State.RUNNING: "processing",
    State.SUCCEEDED: "completed",
    State.FAILED: "failed",
    State.CANCELED: "cancelled",
}
CALLBACK_POLICY = RetryPolicy.from_spec(RULES["callback"])


@dataclass(frozen=True)
class Reference:
    """A reference image as far as the emulator can see it: its size when visible, and whether it can be fetched."""

    url: str
    size: tuple[int, int] | None = None
    reachable: bool = True
    warning: str | None = None


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
    def extension(self) -> str:
        return self.specs[0].extension if self.specs else "jpg"


@dataclass(frozen=True)
class Created:
    """What a create request yields: the task id, its reply body, and the journal warnings it earned."""

    id: str
    view: dict[str, Any]
    warnings: list[str]


class EvoLinkService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        code_style: CodeStyle = "integer",
        result_ttl: float | None = None,
        max_tasks: int = 100_000,
    ) -> None:
        self.runtime = runtime
        self.code_style = code_style
        self.result_ttl = float(result_ttl if result_ttl is not None else RULES["resultValiditySeconds"])
        self._tasks: Retained[str, EvoTask] = Retained(max_tasks, done=_finished)

    # -- requests -------------------------------------------------------------------------------

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

    def context(self, route: str, api_key: str | None, body: Any, entry: Any = None) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        fields = body if isinstance(body, dict) else {}
        prompt, model = fields.get("prompt"), fields.get("model")
        rules_: tuple[Rule, ...] = ()
        if isinstance(prompt, str):
            _, rules_ = self.runtime.directives(prompt, entry)
        return Context(
            SURFACE,
            route,
            model=model if isinstance(model, str) else None,
            prompt=prompt if isinstance(prompt, str) else None,
            api_key=api_key,
            directives=rules_,
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
        return Created(task.id, self.created_view(task), [*warnings, *task.warnings])

    def query(self, task_id: str) -> dict[str, Any]:
        """The task-query reply as of now."""
        task = self.find(task_id)
        assert task.job is not None
        return self.view(task, task.job, self.runtime.clock.now())

    async def submit(self, body: Mapping[str, Any], base_url: str, context: Context | None = None) -> EvoTask:
        """Start the task of a checked body. Reference images are checked here, where they are decoded."""
        urls = list(body.get("image_urls") or [])
        references = await self._references(urls, base_url)
        first_visible = next((ref.size for ref in references if ref.size is not None), None)
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
        broken = next((ref for ref in references if not ref.reachable), None)
        if broken is not None:
            # The download fails when the worker fetches the references: after the first image's time.
            spec = TASK_ERRORS["imageDownload"]
            failure = Failure(spec["code"], fill(spec["message"], {"url": broken.url}))
            plan = Plan(plan.queue_seconds, plan.output_offsets[:1], failure=failure)
        task = EvoTask(
            id=task_id,
            created=int(now),
            model=body["model"],
            n=int(body.get("n", rules.DEFAULTS["n"])),
            base_url=base_url,
            callback_url=body.get("callback_url"),
            warnings=[ref.warning for ref in references if ref.warning],
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
        self._remember(task)
        return task

    def find(self, task_id: str) -> EvoTask:
        """A known, unexpired task, advanced to now."""
        if not task_id.startswith(TASK_ID["prefix"]):
            raise EvoLinkError("invalidTaskId")
        task = self._tasks.get(task_id)
        if task is None or task.job is None:
            raise EvoLinkError("taskNotFound")
        now = self.runtime.clock.now()
        task.job.refresh(now)
        finished = task.job.finished_at
        if finished is not None and now >= finished + self.result_ttl:
            self._tasks.pop(task_id)
            raise EvoLinkError("taskNotFound")
        return task

    # -- task objects ---------------------------------------------------------------------------

    def created_view(self, task: EvoTask) -> dict[str, Any]:
        """The create reply: always the accepted, pending task, however fast the job runs."""
        body = self._object(
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

    def view(self, task: EvoTask, job: Job, now: float) -> dict[str, Any]:
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
            extra["error"] = _task_error(job)
        return self._object(task, progress=self.progress(task, job, now), status=status, task_info=task_info, **extra)

    def progress(self, task: EvoTask, job: Job, now: float) -> int:
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

    def _object(
        self, task: EvoTask, *, progress: int, status: str, task_info: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
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

    # -- lifecycle side effects -----------------------------------------------------------------

    def _on_event(self, job: Job, event: Event) -> None:
        if event.kind != "state" or not event.state.terminal:
            return
        task: EvoTask = job.data
        lag = self.runtime.clock.now() - event.at
        if event.state is State.SUCCEEDED:
            made = job.outputs_ready
            for artifact_id, spec in zip(task.artifact_ids[:made], task.specs[:made], strict=True):
                self.runtime.artifacts.add_generated(artifact_id, spec, self.result_ttl - lag)
        if task.callback_url and STATUS[event.state] in RULES["callback"]["events"]:
            body = orjson.dumps(self.view(task, job, event.at))
            self.runtime.webhooks.send(
                surface=SURFACE,
                url=task.callback_url,
                body=body,
                policy=CALLBACK_POLICY,
                event=f"task.{STATUS[event.state]}",
                job_id=task.id,
                headers={"Content-Type": "application/json"},
                context=task.context,
            )

    def reset(self) -> None:
        self._tasks.clear()

    def _remember(self, task: EvoTask) -> None:
        self._tasks.put(task.id, task)

    def _new_id(self, created: int) -> str:
        while True:
            task_id = (
                f"{TASK_ID['prefix']}{created}-{self.runtime.ids.token(TASK_ID['suffixLength'], TASK_ID['alphabet'])}"
            )
            if task_id not in self._tasks:
                return task_id

    # -- reference images -----------------------------------------------------------------------

    async def _references(self, urls: list[str], base_url: str) -> list[Reference]:
        """Every reference in order; the first one that breaks a documented limit refuses the request."""
        found = []
        for index, url in enumerate(urls):
            outcome = await self._reference(index, url, base_url)
            if isinstance(outcome, Violation):
                error = errors.from_violation(outcome)
                error.violations = [outcome]
                raise error
            found.append(outcome)
        return found

    async def _reference(self, index: int, url: str, base_url: str) -> Reference | Violation:
        """What EvoLink makes of one reference: visible ones are held to the documented limits; ones that cannot
        be downloaded fail the task later; public hosts are taken on trust (the emulator is offline)."""
        if rules.unreachable(url):
            return Reference(url, reachable=False)
        try:
            source = await self.runtime.references.read(url, base_url, max_bytes=REFERENCES["maxBytes"])
        except images.BrokenImage as exc:
            return rules.reference_unreadable(index, str(exc))
        if not source.reachable:
            return Reference(url, reachable=False)
        if source.too_large and source.data is not None:
            return rules.reference_too_large(index, len(source.data)) or Reference(url)
        try:
            info = await self.runtime.references.inspect(source, tuple(REFERENCES["formats"]))
        except images.BrokenImage as exc:
            return rules.reference_unreadable(index, str(exc))
        if info is not None:
            source_format, size = info.format, (info.width, info.height)
        elif source.size is not None and source.format is not None:
            source_format, size = source.format, source.size
        else:
            return Reference(url, warning=source.warning)
        problem = rules.reference_problem(index, source_format, *size)
        return problem or Reference(url, size, warning=source.warning)


def _finished(task: EvoTask) -> bool:
    return task.job is None or task.job.state.terminal


def _task_error(job: Job) -> dict[str, Any]:
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
