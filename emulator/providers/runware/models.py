"""Runware's domain: tasks in, jobs and result items out. Transport-neutral (REST and WebSocket share it)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import itertools
import re
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

import anyio
import orjson

from contracts import Violation, fill, load
from contracts.addresses import host_of
from contracts.runware import rules
from emulator.core import images
from emulator.core.artifacts import Artifact, StorageFull
from emulator.core.directives import extract
from emulator.core.faults import Context, Rule
from emulator.core.jobs import Event, Failure, Job, Overloaded, State
from emulator.core.journal import Entry
from emulator.core.render import GenerationSpec
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from . import errors
from .errors import RunwareError

SURFACE = "runware"
CONTRACT = load("runware")
DEFAULTS = CONTRACT.defaults("imageInference")
FORMATS = {"JPG": "jpeg", "PNG": "png", "WEBP": "webp"}
SEED_SPACE = CONTRACT.schema("imageInference")["properties"]["seed"]["maximum"] + 1
ANY_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
FILE_PATH = re.compile(r"/files/(?P<id>[^/.]+)\.\w+$")
INLINE_THREAD_THRESHOLD = 256 * 1024
UPLOAD_FIELDS = {"imageUpload": "image", "mediaStorage": "media"}
MAX_TASKS: int = CONTRACT.schema("request")["maxItems"]
TASK_TYPES = frozenset(CONTRACT.schema("task")["properties"]["taskType"]["enum"])
REFERENCE_BYTES: int = rules.RULES["referenceDownload"]["maxBytes"]
TARGET_PARAMETERS = ("webhookURL", "uploadEndpoint")


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
        """Image `index` of the task; derived, so a 300-image task costs no more memory than one."""
        return dataclasses.replace(self.template, index=index, seed=(self.seed_base + index) % self.seed_space)

    def image_uuid(self, index: int) -> str:
        # Consecutive integers differ only in the low bits, which the UUID version bits never touch.
        return str(uuid.UUID(int=(self.uuid_base + index) % 2**128, version=4))


class Claimed(enum.Enum):
    """A taskUUID held while its task is being accepted; an enum member so type checkers narrow on `is`."""

    CLAIMED = enum.auto()


CLAIMED = Claimed.CLAIMED


@dataclass
class Stored:
    """A finished utility task (imageUpload, mediaStorage): its reply item, kept for getResponse."""

    item: dict[str, Any]


@dataclass
class Outcome:
    """What one task of a request or frame led to: items to send now, errors, or a sync job to follow."""

    task_type: str | None
    task_uuid: str | None
    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RunwareError] = field(default_factory=list)
    job: Job | None = None
    violations: list[Violation] = field(default_factory=list)
    # Served only because the emulator is kinder than Runware (the harness fails a client on each) ...
    warnings: list[str] = field(default_factory=list)
    # ... and everything else worth knowing (ignored fields, directives, emulator bounds).
    notes: list[str] = field(default_factory=list)
    disconnect: str | None = None

    def record(self, entry: Entry, prefix: str) -> None:
        """Note this task's id, violations, warnings and notes in a journal entry; `prefix` locates the task."""
        entry.add_violations({**v.as_dict(), "path": prefix + v.path} for v in self.violations)
        entry.warnings.extend(self.warnings)
        entry.notes.extend(self.notes)
        if self.task_uuid and self.task_type not in (None, "authentication", "ping"):
            entry.ids.append(self.task_uuid)


class RunwareService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        strict_sizes: bool = True,
        webhook_envelope: str = "flat",
        mixed_replies: bool = True,
        artifact_ttl: float = 86_400.0,
        max_tasks: int = 100_000,
    ) -> None:
        self.runtime = runtime
        self.strict_sizes = strict_sizes
        self.webhook_envelope = webhook_envelope
        self.mixed_replies = mixed_replies
        self.artifact_ttl = artifact_ttl
        self.max_tasks = max_tasks
        self._tasks: OrderedDict[str, Job | Stored | Claimed] = OrderedDict()
        self.channels: set[Any] = set()

    def authenticate(self, api_key: object) -> str:
        if api_key is None or api_key == "":
            raise errors.missing_api_key()
        if not isinstance(api_key, str) or not self.runtime.keys.allows(api_key):
            raise errors.invalid_api_key()
        return api_key

    def violations(self, name: str, task: Any) -> list[Violation]:
        validator = CONTRACT.validator(name)
        if not validator.is_valid(task):
            return validator.violations(task)
        if name == "imageInference":
            return rules.check(task, strict_sizes=self.strict_sizes)
        return []

    def check(self, name: str, task: Any) -> None:
        """Raise a RunwareError for the first violation of the contract, carrying all of them."""
        found = self.violations(name, task)
        if found:
            model = task.get("model") if isinstance(task, Mapping) else None
            error = errors.from_violation(found[0], model if isinstance(model, str) else None)
            error.violations = found
            raise error

    async def start(self, task: Any, base_url: str, *, api_key: str | None = None, route: str = "POST /v1") -> Outcome:
        """Handle one task of a request array (REST) or frame (WebSocket), whatever the transport."""
        task_type = task.get("taskType") if isinstance(task, dict) else None
        task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
        outcome = Outcome(
            task_type if isinstance(task_type, str) else None, task_uuid if isinstance(task_uuid, str) else None
        )
        try:
            task_type = self.check_task_type(task)
            if task_type == "ping":
                outcome.data.append({"taskType": "ping", "pong": True})
            elif task_type != "authentication":
                context = self.context(task, api_key, route, outcome)
                if await self._admitted(context, outcome):
                    self.check(task_type, task)
                    if task_type == "imageInference":
                        self.check_leniency(task, outcome)
                    await self._run(task_type, task, base_url, context, outcome)
        except RunwareError as exc:
            outcome.violations = exc.violations
            outcome.errors.append(exc.about(outcome.task_type, outcome.task_uuid))
        return outcome

    def context(self, task: Mapping[str, Any], api_key: str | None, route: str, outcome: Outcome) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        prompt = task.get("positivePrompt") if task.get("taskType") == "imageInference" else None
        rules: tuple[Rule, ...] = ()
        if isinstance(prompt, str):
            _, rules, warnings = extract(prompt)
            outcome.notes.extend(warnings)
        model = task.get("model")
        return Context(
            surface=SURFACE,
            route=route,
            model=model if isinstance(model, str) else None,
            job=outcome.task_uuid,
            prompt=prompt if isinstance(prompt, str) else None,
            api_key=api_key,
            transport="ws" if route.startswith("WS") else "http",
            directives=rules,
        )

    async def _admitted(self, context: Context, outcome: Outcome) -> bool:
        admission = await self.runtime.admit(context)
        if admission.disconnect is not None:
            outcome.disconnect = admission.disconnect
        elif admission.error is not None:
            raise errors.injected(admission.error)
        elif admission.limited is not None:
            raise errors.overloaded(admission.limited)
        return admission.ok

    def check_leniency(self, task: Mapping[str, Any], outcome: Outcome) -> None:
        """What a valid imageInference task asks that Runware might not serve: webhook and upload targets under
        the production rule (refused under --strict, else warned about; the operator's exempt prefixes are
        silent), and keys its model's documentation does not list (warned about) or that the emulator ignores."""
        targets = self.runtime.targets  # read per request: the policy changes at run time
        for parameter in TARGET_PARAMETERS:
            url = task.get(parameter)
            if not isinstance(url, str):
                continue
            problems = targets.problems(url)
            if problems and targets.strict:
                problem = problems[0]
                violation = rules.target_violation(parameter, problem.kind, url, host_of(url), task["model"])
                error = errors.from_violation(violation)
                error.violations = [violation]
                raise error
            outcome.warnings += [rules.target_warning(parameter, p.kind, url, host_of(url)) for p in problems]
        warnings, notes = rules.leniency(task)
        outcome.warnings += warnings
        outcome.notes += notes

    async def _run(
        self, task_type: str, task: Mapping[str, Any], base_url: str, context: Context, outcome: Outcome
    ) -> None:
        if task_type == "imageInference":
            job = await self.submit(task, base_url, context, outcome)
            if task.get("deliveryMethod") == "async":
                outcome.data.append({"taskType": task_type, "taskUUID": task["taskUUID"]})
            else:
                outcome.job = job
        elif task_type == "getResponse":
            outcome.data, outcome.errors = await self.poll(task["taskUUID"])
        else:
            outcome.data.append(await self.upload(task_type, task, base_url, outcome))

    def check_array(self, tasks: Any) -> list[Any]:
        """The tasks of a request body or frame: a JSON array of 1 to MAX_TASKS items."""
        if isinstance(tasks, list) and 1 <= len(tasks) <= MAX_TASKS:
            return tasks
        error = errors.invalid_body()
        error.violations = self.violations("request", tasks if not isinstance(tasks, list) else tasks[: MAX_TASKS + 1])
        raise error

    def check_task_type(self, task: Any) -> str:
        task_type = task.get("taskType") if isinstance(task, dict) else None
        if isinstance(task_type, str) and task_type in TASK_TYPES:
            return task_type
        self.check("task", task)
        raise AssertionError("the task schema accepts exactly the task types TASK_TYPES lists")

    def known(self, task_uuid: str) -> bool:
        return task_uuid.lower() in self._tasks

    @contextlib.contextmanager
    def _claim(self, task_type: str, task_uuid: str) -> Iterator[None]:
        """Hold a taskUUID while the task is being accepted, so a concurrent duplicate conflicts."""
        key = task_uuid.lower()
        if key in self._tasks:
            raise errors.conflict(task_type, task_uuid)
        self._tasks[key] = CLAIMED
        try:
            yield
        except BaseException:
            if self._tasks.get(key) is CLAIMED:
                del self._tasks[key]
            raise

    async def submit(
        self, task: Mapping[str, Any], base_url: str, context: Context | None = None, outcome: Outcome | None = None
    ) -> Job:
        """Accept a valid imageInference task and start its job; what its references cost in fidelity goes to
        `outcome`'s warnings and notes."""
        task_uuid = task["taskUUID"]
        with self._claim("imageInference", task_uuid):
            context = context or Context(SURFACE, job=task_uuid)
            return await self._submit(task, task_uuid, base_url, context, outcome or Outcome(None, None))

    async def _submit(
        self, task: Mapping[str, Any], task_uuid: str, base_url: str, context: Context, outcome: Outcome
    ) -> Job:
        model = task["model"]
        references = await self._references(rules.reference_images(task), model, base_url, outcome)
        first_size = next((size for size in references if size is not None), None)
        width, height = rules.output_size(task, first_size)
        prompt = extract(task["positivePrompt"])[0]
        count = rules.image_count(task, self.runtime.image_count, prompt)
        given_seed = task.get("seed")
        template = GenerationSpec.create(
            prompt=prompt,
            provider=SURFACE,
            model=model,
            job_id=task_uuid,
            index=0,
            seed=0,
            width=width,
            height=height,
            format=FORMATS[task.get("outputFormat", DEFAULTS["outputFormat"])],
            quality=int(task.get("outputQuality", DEFAULTS["outputQuality"])),
            reference_count=len(references),
        )
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
            template=template,
            seed_base=int(given_seed) if given_seed is not None else self.runtime.ids.uint32(),
            seed_space=SEED_SPACE if given_seed is not None else 2**32,
            uuid_base=int(uuid.UUID(self.runtime.ids.uuid4())),
            context=context,
        )
        try:
            job = self.runtime.start_job(
                context, self.runtime.plan(width * height, count), data=inference, listener=self._on_event
            )
        except Overloaded as exc:
            raise errors.overloaded(exc) from None
        self._remember(task_uuid, job)
        return job

    async def wait(self, job: Job) -> None:
        await self.runtime.jobs.wait(job, lambda current: current.state.terminal)

    async def results(self, job: Job, *, with_status: bool = False) -> list[dict[str, Any]]:
        inference: Inference = job.data
        return [await self.result_item(inference, index, with_status) for index in range(job.outputs_ready)]

    def failure(self, job: Job) -> RunwareError | None:
        if job.state is State.CANCELED:
            return errors.generation_failed("taskCancelled", "The task was canceled before it finished.", job.id)
        if job.state is not State.FAILED:
            return None
        failure = job.failure or Failure("provider_error", "")
        return errors.failed(failure.code, failure.message, job.id)

    async def poll(self, task_uuid: str) -> tuple[list[dict[str, Any]], list[RunwareError]]:
        """getResponse: everything known about a task so far (cumulative), as data items and error items."""
        record = self._tasks.get(task_uuid.lower())
        if record is None:
            raise errors.task_not_found(task_uuid)
        if record is CLAIMED:
            return [{"taskType": "imageInference", "taskUUID": task_uuid, "status": "processing"}], []
        if isinstance(record, Stored):
            return [record.item], []
        job = self.runtime.jobs.get(task_uuid) or record
        items = await self.results(job, with_status=True)
        failure = self.failure(job)
        if failure is not None:
            failure.polled = True
            return items, [failure]
        if not job.state.terminal:
            pending = job.output_count - job.outputs_ready
            items += [{"taskType": "imageInference", "taskUUID": task_uuid, "status": "processing"}] * pending
        return items, []

    async def upload(
        self, task_type: str, task: Mapping[str, Any], base_url: str, outcome: Outcome | None = None
    ) -> dict[str, Any]:
        task_uuid = task["taskUUID"]
        with self._claim(task_type, task_uuid):
            return await self._upload(task_type, task, task_uuid, base_url, outcome or Outcome(None, None))

    async def _upload(
        self, task_type: str, task: Mapping[str, Any], task_uuid: str, base_url: str, outcome: Outcome
    ) -> dict[str, Any]:
        parameter = UPLOAD_FIELDS[task_type]
        artifact = await self._store_upload(task_type, task[parameter], parameter, outcome)
        url = artifact.remote_url or self.runtime.file_url(base_url, artifact)
        if task_type == "imageUpload":
            item = {"taskType": task_type, "taskUUID": task_uuid, "imageUUID": artifact.id, "imageURL": url}
        else:
            item = {
                "taskType": task_type,
                "taskUUID": task_uuid,
                "operation": "upload",
                "mediaUUID": artifact.id,
                "mediaURL": url,
            }
        self._remember(task_uuid, Stored(item))
        return item

    async def result_item(self, inference: Inference, index: int, with_status: bool = False) -> dict[str, Any]:
        spec = inference.spec(index)
        image_uuid = inference.image_uuid(index)
        item: dict[str, Any] = {"taskType": "imageInference", "taskUUID": inference.task_uuid}
        if with_status:
            item["status"] = "success"
        item["imageUUID"] = image_uuid
        if inference.output_type == "URL":
            item["imageURL"] = f"{inference.base_url}/files/{image_uuid}.{spec.extension}"
        else:
            encoded = base64.b64encode(await self.runtime.artifacts.cache.get(spec)).decode("ascii")
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

    def reset(self) -> None:
        self._tasks.clear()

    def _remember(self, task_uuid: str, record: Job | Stored) -> None:
        """Keep the record for getResponse; beyond `max_tasks`, forget the oldest finished ones."""
        self._tasks[task_uuid.lower()] = record
        excess = len(self._tasks) - self.max_tasks
        if excess <= 0:
            return
        finished = [
            key
            for key, kept in itertools.islice(self._tasks.items(), excess + self.max_tasks // 10 + 1)
            if isinstance(kept, Stored) or (isinstance(kept, Job) and kept.state.terminal)
        ]
        for key in finished[:excess]:
            del self._tasks[key]

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
        item = await self.result_item(inference, index)
        body = item if self.webhook_envelope == "flat" else {"data": [item]}
        assert inference.webhook_url is not None
        self.runtime.webhooks.send(
            surface=SURFACE,
            url=inference.webhook_url,
            body=orjson.dumps(body),
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
            body=await self.runtime.artifacts.cache.get(spec),
            method="PUT",
            policy=UPLOAD_POLICY,
            event="imageInference.upload",
            job_id=inference.task_uuid,
            headers={"Content-Type": spec.media_type},
            context=inference.context,
        )

    async def _references(
        self, values: list[str], model: str, base_url: str, outcome: Outcome
    ) -> list[tuple[int, int] | None]:
        """The size of each reference as far as the emulator can see it (None: unknown), in order.

        Inline images and stored UUIDs are read as today (big decodes in a worker thread); URLs go through
        `_linked`. Any reference that cannot be used is `invalidReferenceImages`, as Runware answers."""
        inline = sum(len(value) for value in values if not _is_url(value))
        try:
            if inline > INLINE_THREAD_THRESHOLD:
                sizes = await anyio.to_thread.run_sync(self._resolve_all, values)
            else:
                sizes = self._resolve_all(values)
            for position, value in enumerate(values):
                if _is_url(value):
                    sizes[position] = await self._linked(position, value, base_url, outcome)
        except images.BrokenImage as exc:
            raise errors.invalid_reference(str(exc), model) from None
        return sizes

    def _resolve_all(self, values: list[str]) -> list[tuple[int, int] | None]:
        """Sizes of the inline and UUID references (None for URLs, which `_linked` reads); pure CPU work."""
        sizes = []
        for position, value in enumerate(values):
            try:
                sizes.append(None if _is_url(value) else self._resolve(value))
            except images.BrokenImage as exc:
                raise images.BrokenImage(f"reference image {position}: {exc}") from None
        return sizes

    def _resolve(self, value: str) -> tuple[int, int] | None:
        if ANY_UUID.match(value):
            artifact = self.runtime.artifacts.get(value.lower())
            if artifact is None:
                raise images.BrokenImage(f"no uploaded or generated image has the UUID {value}")
            return _artifact_size(artifact)
        if images.is_data_uri(value):
            _, data = images.decode_data_uri(value)
        else:
            data = images.decode_base64(value)
        info = images.inspect(data)
        return info.width, info.height

    async def _linked(self, position: int, url: str, base_url: str, outcome: Outcome) -> tuple[int, int] | None:
        """A URL reference: the emulator's own files are read from its store; anything else goes through
        `runtime.remote` (loopback URLs downloaded and decoded, internal and reserved hosts unreachable as for
        Runware's servers, public hosts taken on trust offline), whose warning goes to the journal."""
        parts = _split(url)
        if parts is None or not parts.hostname:
            raise images.BrokenImage(f"reference image {position}: {url!r} is not a well-formed URL")
        local = FILE_PATH.search(parts.path)
        if local and parts.netloc == urlsplit(base_url).netloc:
            artifact = self.runtime.artifacts.get(local.group("id"))
            if artifact is None:
                raise images.BrokenImage(f"reference image {position}: {url} has expired or never existed")
            return _artifact_size(artifact)
        fetched = await self.runtime.remote.fetch(url, REFERENCE_BYTES)
        if fetched.status == "unreachable":
            raise images.BrokenImage(f"reference image {position}: {fetched.detail}")
        if fetched.warning:
            outcome.warnings.append(fetched.warning)
        if fetched.data is None:
            return None
        if fetched.too_large:
            values = {"position": position, "url": url, "maxBytes": REFERENCE_BYTES}
            outcome.notes.append(str(fill(rules.LENIENCY["notes"]["referenceTooLarge"], values)))
            return None
        try:
            info = await _inspect(fetched.data)
        except images.BrokenImage as exc:
            raise images.BrokenImage(f"reference image {position}: {url}: {exc}") from None
        return info.width, info.height

    async def _store_upload(self, task_type: str, value: str, parameter: str, outcome: Outcome) -> Artifact:
        artifact_id = self.runtime.ids.uuid4()
        ttl = self.artifact_ttl
        store = self.runtime.artifacts
        if ANY_UUID.match(value):
            existing = store.get(value.lower())
            if existing is None:
                raise errors.invalid_upload(
                    task_type, parameter, f"No uploaded or generated image has the UUID {value}"
                )
            return existing
        if value.startswith(("http://", "https://")):
            parts = _split(value)
            if parts is None or not parts.hostname:
                raise errors.invalid_upload(task_type, parameter, "The URL is not well formed")
            return await self._store_linked(task_type, value, parameter, artifact_id, outcome)
        try:
            if len(value) > INLINE_THREAD_THRESHOLD:
                data, info = await anyio.to_thread.run_sync(_decode_upload, value)
            else:
                data, info = _decode_upload(value)
        except images.BrokenImage as exc:
            raise errors.invalid_upload(task_type, parameter, str(exc).capitalize()) from None
        try:
            return store.add_blob(
                artifact_id, data, info.media_type, info.extension, ttl, width=info.width, height=info.height
            )
        except StorageFull as exc:
            raise errors.storage_full(str(exc)) from None

    async def _store_linked(
        self, task_type: str, url: str, parameter: str, artifact_id: str, outcome: Outcome
    ) -> Artifact:
        """An upload given by URL: read like a reference URL. A loopback image is downloaded and stored; a public
        one is recorded unread (offline); an unreachable one is refused, as Runware cannot fetch it either."""
        store = self.runtime.artifacts
        fetched = await self.runtime.remote.fetch(url, REFERENCE_BYTES)
        if fetched.status == "unreachable":
            raise errors.invalid_upload(task_type, parameter, fetched.detail[:1].upper() + fetched.detail[1:])
        if fetched.warning:
            outcome.warnings.append(fetched.warning)
        if fetched.data is None or fetched.too_large:
            if fetched.too_large:
                values = {"position": 0, "url": url, "maxBytes": REFERENCE_BYTES}
                outcome.notes.append(str(fill(rules.LENIENCY["notes"]["referenceTooLarge"], values)))
            return store.add_remote(artifact_id, url, self.artifact_ttl)
        try:
            info = await _inspect(fetched.data)
        except images.BrokenImage as exc:
            raise errors.invalid_upload(task_type, parameter, f"{url}: {exc}") from None
        try:
            return store.add_blob(
                artifact_id,
                fetched.data,
                info.media_type,
                info.extension,
                self.artifact_ttl,
                width=info.width,
                height=info.height,
            )
        except StorageFull as exc:
            raise errors.storage_full(str(exc)) from None


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


async def _inspect(data: bytes) -> images.ImageInfo:
    """Decode an image, off the event loop when it is big."""
    if len(data) > INLINE_THREAD_THRESHOLD:
        return await anyio.to_thread.run_sync(images.inspect, data)
    return images.inspect(data)


def _split(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError:
        return None
    return parts


def _decode_upload(value: str) -> tuple[bytes, images.ImageInfo]:
    data = images.decode_data_uri(value)[1] if images.is_data_uri(value) else images.decode_base64(value)
    return data, images.inspect(data)


def _artifact_size(artifact: Artifact) -> tuple[int, int] | None:
    if artifact.spec is not None:
        return artifact.spec.width, artifact.spec.height
    if "width" in artifact.info:
        return artifact.info["width"], artifact.info["height"]
    return None
