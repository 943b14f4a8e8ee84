"""fal's domain: app inputs in, queued requests out, outputs and webhooks when they finish. Transport-neutral.

The service composes `requests` (the record and the bodies clients see), `references` (edit inputs read as
evidence) and `webhooks` (delivery once done).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from contracts import Violation, load
from contracts.fal import rules
from contracts.seeds import DRAWN_SPACE
from emulator.core.directives import extract
from emulator.core.faults import Context
from emulator.core.jobs import Event, Failure, Job, Overloaded, Plan, State
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime

from .. import errors
from . import references, requests, webhooks
from .requests import SURFACE, FalRequest

__all__ = ["SURFACE", "FalRequest", "FalService", "Where"]

CONTRACT = load("fal")


@dataclass(frozen=True)
class Where:
    """Where a request was made: the app, and the bases of the URLs handed back."""

    app_id: str
    queue_base: str
    files_base: str


class FalService:
    def __init__(self, runtime: Runtime, *, max_requests: int = 100_000) -> None:
        self.runtime = runtime
        self.result_ttl = float(rules.RULES["resultTtlSeconds"])
        self._requests: Retained[str, FalRequest] = runtime.retained(
            "fal.requests", max_requests, lambda request: request.done
        )

    def authenticate(self, header: str | None) -> str:
        """`Key <id>:<secret>`: any key of that form, or one of `--api-key` when given."""
        if not header:
            raise errors.request_error("missingAuth")
        scheme, _, key = header.strip().partition(" ")
        key_id, colon, secret = key.strip().partition(":")
        if scheme.lower() != "key" or not (key_id and colon and secret) or not self.runtime.keys.allows(key.strip()):
            raise errors.request_error("unauthorized")
        return key.strip()

    def app(self, app_id: str) -> str:
        if rules.app(app_id) is None:
            raise errors.request_error("appNotFound", app=app_id)
        return app_id

    def violations(self, body: Any, app_id: str) -> list[Violation]:
        validator = CONTRACT.validator(rules.APPS[app_id]["schema"])
        if not validator.is_valid(body):
            return validator.violations(body)
        return rules.check(body, app_id)

    def context(self, route: str, api_key: str | None, body: Any, app_id: str, entry: Entry | None = None) -> Context:
        fields = body if isinstance(body, dict) else {}
        return self.runtime.context(
            SURFACE, route, prompt=fields.get("prompt"), model=app_id, api_key=api_key, entry=entry
        )

    async def submit(self, body: Any, where: Where, context: Context, webhook_url: str | None = None) -> FalRequest:
        """Start the request of an input whose key and admission are settled; a FalError when the input is bad."""
        found = self.violations(body, where.app_id)
        if found:
            raise errors.validation(found)
        assert isinstance(body, dict)
        # A text-to-image app has no image_urls: like any field it does not know, it is ignored, not read.
        urls = rules.references(body) if rules.is_edit(where.app_id) else []
        read = await references.read(self.runtime, urls, where.files_base)
        width, height = rules.output_size(body, where.app_id, read.first_size)
        count = rules.image_count(body, where.app_id, self.runtime.image_count)
        request_id = self.runtime.ids.uuid4()
        context = context.with_job(request_id)
        seed = body.get("seed")
        seed = int(seed) if isinstance(seed, int) else self.runtime.ids.uint32()
        prompt = extract(body["prompt"])[0]
        spec = rules.APPS[where.app_id]
        specs = [
            GenerationSpec.create(
                prompt=prompt,
                provider=SURFACE,
                model=spec["model"],
                job_id=request_id,
                index=index,
                seed=(seed + index) % DRAWN_SPACE,
                width=width,
                height=height,
                format=rules.OUTPUT["format"],
                quality=rules.OUTPUT["quality"],
                reference_count=len(urls),
            )
            for index in range(count)
        ]
        plan = self.runtime.plan(width * height, count)
        if read.broken is not None:
            # The app fails when it downloads the references: after the first image's time.
            failure = Failure(rules.RULES["errors"]["referenceDownload"]["type"], read.broken)
            plan = Plan(plan.queue_seconds, plan.output_offsets[:1], failure=failure)
        request = FalRequest(
            id=request_id,
            app_id=where.app_id,
            queue_base=where.queue_base,
            files_base=where.files_base,
            seed=seed,
            sync_mode=bool(body.get("sync_mode", False)),
            specs=specs,
            artifact_ids=[self.runtime.ids.uuid4() for _ in specs],
            webhook_url=webhook_url,
            context=context,
            warnings=read.warnings,
        )
        try:
            request.job = self.runtime.start_job(context, plan, data=request, listener=self._on_event)
        except Overloaded as exc:
            raise errors.Errors().limited(exc) from None
        self._requests.put(request.id, request)
        return request

    def find(self, owner_alias: str, request_id: str) -> tuple[FalRequest, Job]:
        """A known request of this app, advanced to now."""
        request = self._requests.get(request_id)
        if request is None or request.job is None or request.owner_alias != owner_alias:
            raise errors.request_error("requestNotFound", request_id=request_id)
        request.job.refresh(self.runtime.clock.now())
        return request, request.job

    def status(self, owner_alias: str, request_id: str, with_logs: bool) -> tuple[int, dict[str, Any]]:
        request, job = self.find(owner_alias, request_id)
        return requests.status(request, job, with_logs)

    async def result(self, owner_alias: str, request_id: str) -> dict[str, Any]:
        request, job = self.find(owner_alias, request_id)
        if not job.state.terminal:
            raise errors.request_error("stillRunning")
        return await self.outcome(request, job)

    async def outcome(self, request: FalRequest, job: Job) -> dict[str, Any]:
        """The output of a finished request (data URIs under sync_mode), or its error."""
        if job.state is not State.SUCCEEDED:
            raise errors.job_error(*requests.ending(job))
        body = requests.output(request, job)
        if request.sync_mode:
            body["images"] = [
                requests.image(request, index, await self._data_uri(request.specs[index]))
                for index in range(job.outputs_ready)
            ]
        return body

    def cancel(self, owner_alias: str, request_id: str) -> tuple[int, dict[str, Any]]:
        request, job = self.find(owner_alias, request_id)
        if job.state.terminal:
            return 400, {"status": "ALREADY_COMPLETED"}
        job.cancel(self.runtime.clock.now())
        return 202, {"status": "CANCELLATION_REQUESTED"}

    async def wait(self, request: FalRequest) -> Job:
        assert request.job is not None
        await self.runtime.jobs.wait(request.job, lambda job: job.state.terminal)
        return request.job

    def reset(self) -> None:
        self._requests.clear()

    async def _data_uri(self, spec: GenerationSpec) -> str:
        data = await self.runtime.render(spec)
        return f"data:{spec.media_type};base64,{base64.b64encode(data).decode()}"

    def _on_event(self, job: Job, event: Event) -> None:
        """Once finished: the images become downloadable for the result's lifetime, and the webhook goes out."""
        if event.kind != "state" or not event.state.terminal:
            return
        request: FalRequest = job.data
        if event.state is State.SUCCEEDED:
            lag = self.runtime.clock.now() - event.at
            for artifact_id, spec in zip(request.artifact_ids[: job.outputs_ready], request.specs, strict=False):
                self.runtime.artifacts.add_generated(artifact_id, spec, self.result_ttl - lag)
        webhooks.send(self.runtime, request, job, event)
