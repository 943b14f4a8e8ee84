"""imageInference results: a valid task becomes a job; its images become result items, answered at once (sync),
polled (getResponse), POSTed to a webhookURL and PUT to an uploadEndpoint as each one finishes."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.runware import rules
from contracts.seeds import DRAWN_SPACE
from emulator.core.artifacts import ArtifactStore
from emulator.core.faults import Context
from emulator.core.http import dumps
from emulator.core.ids import uuid4_text
from emulator.core.jobs import Event, Failure, Job, Overloaded, State
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from .. import errors
from ..errors import RunwareError
from .records import CLAIMED, Records, Stored
from .references import References
from .tasks import CONTRACT, SURFACE

DEFAULTS = CONTRACT.defaults("imageInference")
FORMATS = {"JPG": "jpeg", "PNG": "png", "WEBP": "webp"}
SEED_SPACE = CONTRACT.schema("imageInference")["properties"]["seed"]["maximum"] + 1
WEBHOOK_POLICY = RetryPolicy.from_spec(rules.RULES["delivery"]["webhook"])
UPLOAD_POLICY = RetryPolicy.from_spec(rules.RULES["delivery"]["upload"])


@dataclass
class Inference:
    """What the emulator remembers of an accepted imageInference task."""

    task_uuid: str
    model: str
    delivery: str
    output_type: str
    base_url: str
    ttl: float
    include_cost: bool
    check_content: bool
    webhook_url: str | None
    upload_endpoint: str | None
    template: GenerationSpec
    seed_base: int
    seed_space: int
    uuid_base: int
    context: Context

    @property
    def price(self) -> float:
        return rules.price(self.model)

    def spec(self, index: int) -> GenerationSpec:
        """Image `index` of the task; derived, so a 300-image task costs no more memory than one. The template is
        image 0."""
        if index == 0:
            return self.template
        return dataclasses.replace(self.template, index=index, seed=(self.seed_base + index) % self.seed_space)

    def image_uuid(self, index: int) -> str:
        # Consecutive integers differ only in the low bits, which the UUID version bits never touch.
        return uuid4_text(self.uuid_base + index)


class Results:
    def __init__(
        self,
        runtime: Runtime,
        records: Records,
        references: References,
        *,
        webhook_envelope: str = "flat",
        artifact_ttl: float = 86_400.0,
    ) -> None:
        self.runtime = runtime
        self.records = records
        self.references = references
        self.webhook_envelope = webhook_envelope
        self.artifact_ttl = artifact_ttl

    async def submit(self, task: Mapping[str, Any], prompt: str, base_url: str, context: Context, entry: Entry) -> Job:
        """Accept a valid imageInference task and start its job; `prompt` is the one the model reads (without the
        emulator's directives). What its references cost in fidelity goes to `entry`."""
        task_uuid, model = task["taskUUID"], task["model"]
        with self.records.claim("imageInference", task_uuid):
            named = rules.reference_images(task)
            references = await self.references.sizes(named, model, base_url, entry) if named else []
            width, height = rules.output_size(task, next((size for size in references if size is not None), None))
            count = rules.image_count(task, self.runtime.image_count, prompt)
            given_seed = task.get("seed")
            seed_base = int(given_seed) if given_seed is not None else self.runtime.ids.uint32()
            seed_space = SEED_SPACE if given_seed is not None else DRAWN_SPACE
            output_type = task.get("outputType", DEFAULTS["outputType"])
            inference = Inference(
                task_uuid=task_uuid,
                model=model,
                delivery=task.get("deliveryMethod", DEFAULTS["deliveryMethod"]),
                output_type=output_type,
                base_url=base_url,
                ttl=float(task["ttl"]) if "ttl" in task and output_type == "URL" else self.artifact_ttl,
                include_cost=bool(task.get("includeCost", DEFAULTS["includeCost"])),
                check_content=bool((task.get("safety") or {}).get("checkContent", False)),
                webhook_url=task.get("webhookURL"),
                upload_endpoint=task.get("uploadEndpoint"),
                template=GenerationSpec.create(
                    prompt=prompt,
                    provider=SURFACE,
                    model=model,
                    job_id=task_uuid,
                    index=0,
                    seed=seed_base % seed_space,
                    width=width,
                    height=height,
                    format=FORMATS[task.get("outputFormat", DEFAULTS["outputFormat"])],
                    quality=int(task.get("outputQuality", DEFAULTS["outputQuality"])),
                    reference_count=len(references),
                ),
                seed_base=seed_base,
                seed_space=seed_space,
                uuid_base=self.runtime.ids.uuid4_int(),
                context=context,
            )
            try:
                job = self.runtime.start_job(
                    context, self.runtime.plan(width * height, count), data=inference, listener=self._on_event
                )
            except Overloaded as exc:
                raise errors.overloaded(exc) from None
            self.records.put(task_uuid, job)
        return job

    async def items(self, job: Job, *, with_status: bool = False) -> list[dict[str, Any]]:
        """The result items of every image finished so far."""
        return [await self.item(job.data, index, with_status) for index in range(job.outputs_ready)]

    async def item(self, inference: Inference, index: int, with_status: bool = False) -> dict[str, Any]:
        spec = inference.spec(index)
        image_uuid = inference.image_uuid(index)
        item: dict[str, Any] = {"taskType": "imageInference", "taskUUID": inference.task_uuid}
        if with_status:
            item["status"] = "success"
        item["imageUUID"] = image_uuid
        if inference.output_type == "URL":
            item["imageURL"] = ArtifactStore.url(inference.base_url, image_uuid, spec.extension)
        else:
            encoded = base64.b64encode(await self.runtime.render(spec)).decode("ascii")
            if inference.output_type == "dataURI":
                item["imageDataURI"] = f"data:{spec.media_type};base64,{encoded}"
            else:
                item["imageBase64Data"] = encoded
        item["seed"] = spec.seed
        if inference.include_cost:
            item["cost"] = inference.price
        if inference.check_content:
            item["NSFWContent"] = False
        return item

    def failure(self, job: Job) -> RunwareError | None:
        """The error item of a job that failed or was canceled; None otherwise."""
        if job.state is State.CANCELED:
            return errors.canceled(job.id)
        if job.state is not State.FAILED:
            return None
        failure = job.failure or Failure("provider_error", "")
        return errors.failed(failure.code, failure.message, job.id)

    async def poll(self, task_uuid: str) -> tuple[list[dict[str, Any]], list[RunwareError]]:
        """getResponse: everything known about a task so far (cumulative), as data items and error items."""
        record = self.records.get(task_uuid)
        if record is None:
            raise errors.task_not_found(task_uuid)
        if record is CLAIMED:
            return [{"taskType": "imageInference", "taskUUID": task_uuid, "status": "processing"}], []
        if isinstance(record, Stored):
            return [record.item], []
        job = self.runtime.jobs.get(task_uuid) or record
        # One moment of the job, read before the first await: base64 items render their image, and meanwhile the
        # job may finish. Read after, a task still making its last image would answer without a processing item,
        # as if it had finished with fewer images than it makes.
        ready, terminal, failure = job.outputs_ready, job.state.terminal, self.failure(job)
        items = [await self.item(job.data, index, with_status=True) for index in range(ready)]
        if failure is not None:
            failure.polled = True
            return items, [failure]
        if not terminal:
            pending = job.output_count - ready
            items += [{"taskType": "imageInference", "taskUUID": task_uuid, "status": "processing"}] * pending
        return items, []

    def _on_event(self, job: Job, event: Event) -> None:
        if event.kind != "output" or event.index is None:
            return
        inference: Inference = job.data
        index = event.index
        self.runtime.artifacts.add_generated(inference.image_uuid(index), inference.spec(index), inference.ttl)
        if inference.webhook_url:
            self.runtime.spawn(self._post_webhook(inference, index))
        if inference.upload_endpoint:
            self.runtime.spawn(self._put_upload(inference, index))

    async def _post_webhook(self, inference: Inference, index: int) -> None:
        item = await self.item(inference, index)
        body = item if self.webhook_envelope == "flat" else {"data": [item]}
        assert inference.webhook_url is not None
        self.runtime.webhooks.send(
            surface=SURFACE,
            url=inference.webhook_url,
            body=dumps(body),
            policy=WEBHOOK_POLICY,
            event="imageInference.result",
            job_id=inference.task_uuid,
            headers={"Content-Type": "application/json"},
            context=inference.context,
        )

    async def _put_upload(self, inference: Inference, index: int) -> None:
        spec = inference.spec(index)
        assert inference.upload_endpoint is not None
        self.runtime.webhooks.send(
            surface=SURFACE,
            url=inference.upload_endpoint,
            body=await self.runtime.render(spec),
            method="PUT",
            policy=UPLOAD_POLICY,
            event="imageInference.upload",
            job_id=inference.task_uuid,
            headers={"Content-Type": spec.media_type},
            context=inference.context,
        )
