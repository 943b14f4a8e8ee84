"""Predictions of bytedance/seedream-4: checked, created (held for `Prefer: wait`), read, listed and canceled."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import Violation
from contracts.counts import MODES, Mode
from contracts.replicate import rules
from emulator.core.directives import extract
from emulator.core.faults import Context
from emulator.core.jobs import Event, Failure, Job, Overloaded, Plan, State
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime

from .. import errors
from .catalog import Catalog
from .inputs import BrokenInput, Inputs, Loaded, Size
from .pagination import Page, paginate
from .views import SURFACE, Answer, Snapshot, Views, urls
from .webhooks import Outbox, Webhooks

RULES = rules.RULES
NOTES: Mapping[str, str] = RULES["journal"]["notes"]
WARNINGS: Mapping[str, str] = RULES["journal"]["warnings"]


@dataclass
class Prediction:
    id: str
    seq: int
    input: dict[str, Any]
    created_at: float
    base: str
    api_base: str
    width: int
    height: int
    size_label: str
    enhance_prompt: bool
    specs: list[GenerationSpec]
    artifact_ids: list[str]
    outbox: Outbox
    echo: dict[str, Any]
    context: Context
    deadline: float | None = None
    aborted: bool = False
    job: Job | None = None
    # Leniency met while accepting it (references taken on trust or read from this machine), and other remarks,
    # for the create request's journal entry.
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Predictions:
    def __init__(
        self,
        runtime: Runtime,
        views: Views,
        webhooks: Webhooks,
        inputs: Inputs,
        number: Callable[[], int],
        *,
        artifact_ttl: float = 86_400.0,
        limit: int = 100_000,
    ) -> None:
        self.runtime = runtime
        self.views = views
        self.webhooks = webhooks
        self.inputs = inputs
        self.number = number
        self.artifact_ttl = artifact_ttl
        self._predictions: Retained[str, Prediction] = runtime.retained("replicate.predictions", limit, _finished)

    def context(self, route: str, api_key: str | None, body: Any, entry: Entry | None = None) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        input_ = body.get("input") if isinstance(body, dict) else None
        prompt = input_.get("prompt") if isinstance(input_, dict) else None
        return self.runtime.context(SURFACE, route, prompt=prompt, model=rules.MODEL_REF, api_key=api_key, entry=entry)

    def check(self, schema: str, body: Any) -> tuple[list[Violation], list[str]]:
        """Everything Replicate rejects with 422 before creating a prediction, and journal warnings for webhook
        targets the target policy lets through."""
        found = rules.invalid_fields(schema, body)
        if found or not isinstance(body, dict):
            return found, []
        refused, warnings = self.webhooks.check(body)
        return found + refused, warnings

    async def create(
        self,
        schema: str,
        body: Any,
        hold: rules.Preference,
        *,
        base: str,
        api_base: str,
        cancel_after: float | None,
        context: Context,
    ) -> Answer:
        """The reply to a create whose key and admission are settled: 201 with the prediction as it starts, or
        as it ends when `Prefer: wait` holds it and it finishes in time."""
        found, warnings = self.check(schema, body)
        if found:
            raise errors.validation(found)
        if "version" in body:
            Catalog.check_version(body["version"])
        notes = list(hold.notes)
        if "webhook_completed" in body:
            warnings.append(WARNINGS["webhookCompleted"])
        if "stream" in body:
            notes.append(NOTES["stream"])
        prediction = await self.start(body, base=base, api_base=api_base, cancel_after=cancel_after, context=context)
        warnings += prediction.warnings
        notes += prediction.notes
        headers = {"Location": urls(prediction.id, api_base)["get"]}
        reply = await self._held(prediction, hold, headers, notes)
        return Answer(reply, 201, headers, (prediction.id,), tuple(warnings), tuple(notes))

    async def _held(
        self, prediction: Prediction, hold: rules.Preference, headers: dict[str, str], notes: list[str]
    ) -> dict[str, Any]:
        """The body of a create: the finished prediction when `Prefer: wait` holds it until it ends (and its
        outputs encode in the window), else the prediction as it starts, the one state the official client polls."""
        if hold.seconds is not None and hold.applied is not None:
            headers["Preference-Applied"] = hold.applied
            started = time.monotonic()
            if await self.wait(prediction, hold.seconds):
                budget = hold.seconds + RULES["prefer"]["replyMarginSeconds"] - (time.monotonic() - started)
                snapshot = self.views.snapshot(prediction, self.job(prediction), prediction.api_base)
                try:
                    return await self.views.encode(snapshot, self.views.form("sync"), prediction.base, budget)
                except TimeoutError:
                    notes.append(NOTES["syncFallback"])
        return await self.views.encode(self.views.starting(prediction, prediction.api_base), "url", prediction.base)

    async def start(
        self,
        body: Mapping[str, Any],
        *,
        base: str,
        api_base: str,
        cancel_after: float | None = None,
        context: Context | None = None,
    ) -> Prediction:
        """Accept a valid body and start its job; run-time-only limits make it fail later, as on Replicate."""
        clock = self.runtime.clock
        ids = self.runtime.ids
        input_: dict[str, Any] = dict(body["input"])
        if isinstance(input_.get("prompt"), str):
            input_["prompt"] = extract(input_["prompt"])[0]
        prediction_id = ids.token(26)
        context = (context or Context(SURFACE)).with_job(prediction_id)
        failure = rules.run_failure(input_)
        first_size: Size | None = None
        loaded: list[Loaded] = []
        if failure is None:
            try:
                loaded = await self.inputs.load(rules.image_inputs(input_), base)
                first_size = loaded[0].size if loaded else None
            except BrokenInput as exc:
                failure = str(exc)
        width, height = rules.output_size(input_, first_size)
        count = 0 if failure else rules.image_count(input_, self._count_mode())
        specs = [
            GenerationSpec.create(
                prompt=input_["prompt"],
                provider=SURFACE,
                model=rules.MODEL_REF,
                job_id=prediction_id,
                index=index,
                seed=ids.uint32(),
                width=width,
                height=height,
                format=RULES["output"]["format"],
                quality=RULES["output"]["quality"],
                reference_count=len(rules.image_inputs(input_)),
            )
            for index in range(count)
        ]
        prediction = Prediction(
            id=prediction_id,
            seq=self.number(),
            input=input_,
            created_at=clock.now(),
            base=base,
            api_base=api_base,
            width=width,
            height=height,
            size_label=_size_label(input_, first_size),
            enhance_prompt=bool(rules.value(input_, "enhance_prompt")),
            specs=specs,
            artifact_ids=["tmp" + ids.token(8) for _ in specs],
            outbox=Outbox.of(body),
            echo={key: body[key] for key in ("webhook", "webhook_events_filter") if key in body},
            context=context,
            warnings=[warning for item in loaded for warning in item.warnings],
            notes=[note for item in loaded for note in item.notes],
        )
        if loaded and first_size is None and _matches_input(input_):
            prediction.notes.append(
                NOTES["matchFallback"].format(ratio=RULES["fallbackAspectRatio"], url=rules.image_inputs(input_)[0])
            )
        if cancel_after is not None:
            prediction.deadline = prediction.created_at + cancel_after
        if failure is not None:
            plan = Plan(self.runtime.timing.queue_seconds(), (), failure=Failure("failed", failure))
        else:
            plan = self.runtime.plan(width * height, count)
        self.webhooks.notify(prediction, "start", prediction.created_at, self.views.starting(prediction))
        try:
            prediction.job = self.runtime.start_job(context, plan, data=prediction, listener=self._on_event)
        except Overloaded as exc:  # nothing was created: its start webhook must not go out
            prediction.outbox.queue.clear()
            raise errors.throttled(exc.retry_after) from None
        self._predictions.put(prediction.id, prediction)
        if prediction.deadline is not None and not prediction.job.state.terminal:
            self.runtime.spawn(self._enforce_deadline(prediction, prediction.job))
        return prediction

    async def current(self, prediction_id: str, base: str, api_base: str) -> Answer:
        """GET: the prediction as of now, its files as the `replicate_file_output` setting writes them."""
        prediction = self.get(prediction_id)
        return await self._current(prediction, base, api_base)

    async def cancel(self, prediction_id: str, base: str, api_base: str) -> Answer:
        prediction = self.get(prediction_id)
        self.job(prediction).cancel(self.runtime.clock.now())
        return await self._current(prediction, base, api_base)

    async def _current(self, prediction: Prediction, base: str, api_base: str) -> Answer:
        snapshot = self.views.snapshot(prediction, self.job(prediction), api_base)
        form = self.views.form("get")
        notes = (NOTES["dataUriOutputs"],) if form == "data-uri" and snapshot.with_output else ()
        return Answer(await self.views.encode(snapshot, form, base), ids=(prediction.id,), notes=notes)

    async def web(self, prediction_id: str, base: str, api_base: str) -> dict[str, Any]:
        """The prediction for its web page: file URLs, whatever the output setting."""
        prediction = self.get(prediction_id)
        return await self.views.encode(self.views.snapshot(prediction, self.job(prediction), api_base), "url", base)

    async def page(
        self,
        *,
        after: float | None,
        before: float | None,
        source: str | None,
        cursor: str | None,
        base: str,
        api_base: str,
    ) -> Page:
        """A page of predictions, most recent first; the emulator only has API predictions, so `source=web`
        finds none."""
        found = [] if source == "web" else self._between(after, before)
        page = paginate(found, lambda prediction: prediction.seq, cursor)
        results = [
            await self.views.encode(self.views.snapshot(prediction, self.job(prediction), api_base), "url", base)
            for prediction in page.items
        ]
        return Page(results, page.next, page.previous)

    def get(self, prediction_id: str) -> Prediction:
        prediction = self._predictions.get(prediction_id)
        if prediction is None:
            raise errors.problem("notFound")
        return prediction

    def job(self, prediction: Prediction) -> Job:
        job = self.runtime.jobs.get(prediction.id)
        if job is None:  # evicted from the engine; the prediction keeps its own reference
            assert prediction.job is not None
            job = prediction.job
            job.refresh(self.runtime.clock.now())
        return job

    async def wait(self, prediction: Prediction, seconds: float) -> bool:
        """Hold (on the emulator's clock) until the prediction is terminal; False when `seconds` pass first."""
        return await self.runtime.jobs.wait(self.job(prediction), lambda job: job.state.terminal, timeout=seconds)

    def reset(self) -> None:
        self._predictions.clear()

    def _between(self, created_after: float | None, created_before: float | None) -> list[Prediction]:
        return [
            prediction
            for prediction in reversed(list(self._predictions.values()))
            if (created_after is None or prediction.created_at > created_after)
            and (created_before is None or prediction.created_at < created_before)
        ]

    def _count_mode(self) -> Mode:
        mode = self.runtime.image_count
        return mode if mode in MODES else "prompt"

    def _on_event(self, job: Job, event: Event) -> None:
        prediction: Prediction = job.data
        notify = self.webhooks.notify

        def now() -> Snapshot:
            return self.views.snapshot(prediction, job)

        if event.kind == "output" and event.index is not None:
            index = event.index
            self.runtime.artifacts.add_generated(
                prediction.artifact_ids[index], prediction.specs[index], self.artifact_ttl
            )
            notify(prediction, "logs", event.at, now)
        elif event.state is State.RUNNING:
            notify(prediction, "logs", event.at, now)
        elif event.state is State.SUCCEEDED:
            final = now()
            notify(prediction, "output", event.at, final)
            notify(prediction, "completed", event.at, final)
        elif event.state.terminal:
            notify(prediction, "completed", event.at, now())

    async def _enforce_deadline(self, prediction: Prediction, job: Job) -> None:
        assert prediction.deadline is not None
        remaining = prediction.deadline - self.runtime.clock.now()
        if await self.runtime.jobs.wait(job, lambda current: current.state.terminal, timeout=remaining):
            return
        prediction.aborted = job.state is State.QUEUED
        job.cancel(self.runtime.clock.now())


def _finished(prediction: Prediction) -> bool:
    return prediction.job is not None and prediction.job.state.terminal


def _matches_input(input_: Mapping[str, Any]) -> bool:
    """Whether the output size follows the first input image (`match_input_image` outside `custom`)."""
    return bool(
        rules.value(input_, "size") != RULES["customSize"]
        and rules.value(input_, "aspect_ratio") == RULES["matchInputImage"]
    )


def _size_label(input_: Mapping[str, Any], first_size: Size | None) -> str:
    size = rules.value(input_, "size")
    if size == RULES["customSize"]:
        return "custom"
    ratio = rules.value(input_, "aspect_ratio")
    if ratio == RULES["matchInputImage"]:
        ratio = "matching the input image" if first_size else f"{RULES['fallbackAspectRatio']}, no input image"
    return f"{size}, {ratio}"
