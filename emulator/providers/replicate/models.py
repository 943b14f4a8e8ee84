"""Replicate's domain: bytedance/seedream-4 predictions, files, signed webhooks. Transport-neutral."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import itertools
import logging
import mimetypes
import re
import string
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
import orjson

from contracts.addresses import host_of
from contracts.counts import MODES, Mode
from contracts.replicate import rules
from contracts.replicate.rules import InvalidField
from emulator.core import images
from emulator.core.artifacts import StorageFull
from emulator.core.directives import extract
from emulator.core.faults import Context as FaultContext
from emulator.core.faults import Rule
from emulator.core.jobs import Event, Failure, Job, Overloaded, Plan, State
from emulator.core.render import GenerationSpec
from emulator.core.runtime import Runtime
from emulator.core.webhooks import Delivery, RetryPolicy

from . import errors

logger = logging.getLogger(__name__)

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
Context = Literal["sync", "get", "list", "webhook"]
Size = tuple[int, int]
T = TypeVar("T")

IMAGE_INPUT = rules.IMAGE_INPUT
UPSTREAM = IMAGE_INPUT["upstream"]
NOTES: Mapping[str, str] = RULES["journal"]["notes"]
INLINE_THREAD_THRESHOLD = 256 * 1024
ENCODE_THREAD_THRESHOLD = 1024 * 1024
THROTTLED = frozenset({"output", "logs"})
MESSAGE_ID_ALPHABET = string.ascii_letters + string.digits
FILE_API_PATH = re.compile(r"^(?P<prefix>.*)/v1/files/(?P<id>[^/]+)(?:/download)?/?$")
OUTPUT_PATH = re.compile(r"^/files/(?P<id>[^/.]+)\.(?P<ext>\w+)$")
EXTENSION = re.compile(r"^[A-Za-z0-9]{1,10}$")


TERMINAL_POLICY = RetryPolicy.from_spec(RULES["webhooks"]["terminal"])
INTERMEDIATE_POLICY = RetryPolicy.from_spec(RULES["webhooks"]["intermediate"])


def timestamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BrokenInput(Exception):
    """An `image_input` entry the model cannot load: the prediction fails with this text."""


@dataclass(frozen=True)
class Loaded:
    """What the model saw of one `image_input` entry: its size when known, and the journal's words on it."""

    size: Size | None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


Source = str | bytes | Size | None


@dataclass(frozen=True)
class Target:
    url: str
    events: frozenset[str]
    throttled: bool


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
    targets: list[Target]
    echo: dict[str, Any]
    context: FaultContext
    deadline: float | None = None
    aborted: bool = False
    job: Job | None = None
    last_sent_at: float | None = None
    outbox: deque[tuple[Target, str, str, Snapshot]] = field(default_factory=deque)
    flushing: bool = False
    # Leniency met while accepting it (references taken on trust or read from this machine), and other remarks,
    # for the create request's journal entry.
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Snapshot:
    """A prediction's JSON at one moment, outputs still to be encoded (data URIs or URLs)."""

    prediction: Prediction
    body: dict[str, Any]
    with_output: bool
    made: int = 0


@dataclass
class FileRecord:
    id: str
    seq: int
    name: str
    content_type: str
    size: int
    md5: str
    sha256: str
    metadata: dict[str, Any]
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next: str | None
    previous: str | None


class ReplicateService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        prefix: str = "",
        file_output: FileOutputMode = "auto",
        webhook_secret: str | None = None,
        emit_aborted: bool = False,
        artifact_ttl: float = 86_400.0,
        max_predictions: int = 100_000,
    ) -> None:
        self.runtime = runtime
        self.prefix = prefix
        self.file_output = file_output
        self.emit_aborted = emit_aborted
        self.artifact_ttl = artifact_ttl
        self.max_predictions = max_predictions
        self.secret = webhook_secret or derived_secret(runtime.ids.seed)
        self._key = base64.b64decode(self.secret.split("_", 1)[1])
        self._predictions: OrderedDict[str, Prediction] = OrderedDict()
        self._files: OrderedDict[str, FileRecord] = OrderedDict()
        self._seq = itertools.count(1)

    # --- auth -------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str:
        """The token of `Authorization: Bearer <t>` or the legacy `Token <t>`; 401 otherwise."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or not token:
            raise errors.unauthenticated()
        if not self.runtime.keys.allows(token):
            raise errors.unauthenticated()
        return token

    # --- predictions --------------------------------------------------------------------------

    def check(self, schema: str, body: Any) -> tuple[list[InvalidField], list[str]]:
        """Everything Replicate rejects with 422 before creating a prediction, and journal warnings for webhook
        targets production refuses that the target policy (read now: it changes at run time) lets through."""
        found = rules.invalid_fields(schema, body)
        if found or not isinstance(body, dict):
            return found, []
        warnings: list[str] = []
        targets = self.runtime.targets
        for key in ("webhook", "webhook_completed"):
            url = body.get(key)
            if not isinstance(url, str):
                continue
            problem = rules.webhook_problem(key, url)
            if problem is not None:
                found.append(problem)
                continue
            host = host_of(url)
            found += [rules.webhook_refusal(key, refused.kind, host) for refused in targets.refused(url)]
            if not targets.strict:
                warnings += [rules.webhook_warning(key, url, seen.kind, host) for seen in targets.problems(url)]
        return found, warnings

    def check_version(self, version: str) -> None:
        """`POST /v1/predictions` names the model by version: a known id, `owner/name:id`, or `owner/name`."""
        model, colon, version_id = version.partition(":")
        if not colon:
            if version == rules.MODEL_REF or rules.known_version(version):
                return
        elif model == rules.MODEL_REF and rules.known_version(version_id):
            return
        raise errors.invalid_version()

    def context(self, route: str, api_key: str | None, body: Any, entry: Any = None) -> FaultContext:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        input_ = body.get("input") if isinstance(body, dict) else None
        prompt = input_.get("prompt") if isinstance(input_, dict) else None
        directives: tuple[Rule, ...] = ()
        if isinstance(prompt, str):
            _, directives = self.runtime.directives(prompt, entry)
        return FaultContext(
            SURFACE,
            route,
            model=rules.MODEL_REF,
            prompt=prompt if isinstance(prompt, str) else None,
            api_key=api_key,
            directives=directives,
        )

    async def create(
        self,
        body: Mapping[str, Any],
        *,
        base: str,
        api_base: str,
        cancel_after: float | None = None,
        context: FaultContext | None = None,
    ) -> Prediction:
        """Accept a valid body and start its job; run-time-only limits make it fail later, as on Replicate."""
        clock = self.runtime.clock
        ids = self.runtime.ids
        input_: dict[str, Any] = dict(body["input"])
        if isinstance(input_.get("prompt"), str):
            input_["prompt"] = extract(input_["prompt"])[0]
        prediction_id = ids.token(26)
        context = (context or FaultContext(SURFACE)).with_job(prediction_id)
        failure = rules.run_failure(input_)
        first_size: Size | None = None
        loaded: list[Loaded] = []
        if failure is None:
            try:
                loaded = await self._load_inputs(rules.image_inputs(input_), base)
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
        echo = {key: body[key] for key in ("webhook", "webhook_events_filter") if key in body}
        prediction = Prediction(
            id=prediction_id,
            seq=next(self._seq),
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
            targets=_targets(body),
            echo=echo,
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
        self._remember(prediction)
        self._notify(prediction, "start", prediction.created_at, self.starting(prediction))
        try:
            prediction.job = self.runtime.start_job(context, plan, data=prediction, listener=self._on_event)
        except Overloaded as exc:  # nothing was created: forget it before its start webhook goes out
            prediction.outbox.clear()
            self._predictions.pop(prediction_id, None)
            raise errors.throttled(exc.retry_after) from None
        if prediction.deadline is not None and not prediction.job.state.terminal:
            self.runtime.spawn(self._enforce_deadline(prediction, prediction.job))
        return prediction

    def _count_mode(self) -> Mode:
        mode = self.runtime.image_count
        return mode if mode in MODES else "prompt"

    def get(self, prediction_id: str) -> Prediction:
        prediction = self._predictions.get(prediction_id)
        if prediction is None:
            raise errors.not_found()
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

    def cancel(self, prediction: Prediction) -> None:
        self.job(prediction).cancel(self.runtime.clock.now())

    def predictions(
        self, created_after: float | None, created_before: float | None, source: str | None
    ) -> list[Prediction]:
        """Most recent first; the emulator only has API predictions, so `source=web` finds none."""
        if source == "web":
            return []
        return [
            prediction
            for prediction in reversed(self._predictions.values())
            if (created_after is None or prediction.created_at > created_after)
            and (created_before is None or prediction.created_at < created_before)
        ]

    # --- JSON views --------------------------------------------------------------------------------

    def starting(self, prediction: Prediction, api_base: str | None = None) -> Snapshot:
        """The prediction as it was at creation: what async creates and timed-out sync waits return."""
        body = _envelope(prediction)
        body.update(logs="", output=None, data_removed=False, error=None, status="starting")
        return Snapshot(prediction, self._finish(prediction, body, api_base), with_output=False)

    def snapshot(self, prediction: Prediction, api_base: str | None = None, job: Job | None = None) -> Snapshot:
        job = job or self.job(prediction)
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
            body["error"] = _error_text(job.failure)
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

    def form(self, context: Context) -> Form:
        """How output files are written (`replicate_file_output`). `auto`, as production: sync replies inline
        them (the official client wraps only https: and data: outputs as FileOutput, so over plain HTTP every
        file is inlined), while GET, list, cancel and webhooks hand out file URLs. `data-uri` inlines everywhere
        but in lists; `url` hands out URLs everywhere."""
        if self.file_output == "url" or context == "list":
            return "url"
        if self.file_output == "data-uri":
            return "data-uri"
        return "sync" if context == "sync" else "url"

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
        url = f"{base}/files/{prediction.artifact_ids[index]}.{prediction.specs[index].extension}"
        if form == "url":
            return url
        spec = prediction.specs[index]
        data = await self.runtime.artifacts.cache.get(spec)
        # Replicate inlines only small files in sync replies; over plain HTTP a URL would reach the
        # official client as a bare str (it wraps only https: and data:), so there every file is inlined.
        if form == "sync" and len(data) > RULES["output"]["syncDataUriMaxBytes"] and base.startswith("https:"):
            return url
        if len(data) > ENCODE_THREAD_THRESHOLD:
            encoded = await anyio.to_thread.run_sync(base64.b64encode, data)
        else:
            encoded = base64.b64encode(data)
        return f"data:{spec.media_type};base64,{encoded.decode('ascii')}"

    def _finish(self, prediction: Prediction, body: dict[str, Any], api_base: str | None) -> dict[str, Any]:
        body["source"] = "api"
        body["created_at"] = timestamp(prediction.created_at)
        body["urls"] = self.urls(prediction, api_base or prediction.api_base)
        if prediction.deadline is not None:
            body["deadline"] = timestamp(prediction.deadline)
        body.update(prediction.echo)
        return body

    @staticmethod
    def urls(prediction: Prediction, api_base: str) -> dict[str, str]:
        get = f"{api_base}/v1/predictions/{prediction.id}"
        return {"cancel": f"{get}/cancel", "get": get, "web": f"{api_base}/p/{prediction.id}"}

    # --- job events: files and webhooks ------------------------------------------------------------

    def _on_event(self, job: Job, event: Event) -> None:
        prediction: Prediction = job.data
        if event.kind == "output" and event.index is not None:
            index = event.index
            self.runtime.artifacts.add_generated(
                prediction.artifact_ids[index], prediction.specs[index], self.artifact_ttl
            )
            self._notify(prediction, "logs", event.at, lambda: self.snapshot(prediction, job=job))
        elif event.state is State.RUNNING:
            self._notify(prediction, "logs", event.at, lambda: self.snapshot(prediction, job=job))
        elif event.state is State.SUCCEEDED:
            final = self.snapshot(prediction, job=job)
            self._notify(prediction, "output", event.at, final)
            self._notify(prediction, "completed", event.at, final)
        elif event.state.terminal:
            self._notify(prediction, "completed", event.at, self.snapshot(prediction, job=job))

    def _notify(
        self, prediction: Prediction, kind: str, at: float, snapshot: Snapshot | Callable[[], Snapshot]
    ) -> None:
        """Queue the webhooks `kind` triggers, throttled like Replicate: output/logs at most every 500 ms."""
        throttle = RULES["webhooks"]["throttleSeconds"]
        for target in prediction.targets:
            if kind not in target.events:
                continue
            recent = prediction.last_sent_at is not None and at - prediction.last_sent_at < throttle
            if target.throttled and kind in THROTTLED and recent:
                continue
            if target.throttled:
                prediction.last_sent_at = at
            if callable(snapshot):
                snapshot = snapshot()
            message_id = "msg_" + self.runtime.ids.token(27, MESSAGE_ID_ALPHABET)
            prediction.outbox.append((target, kind, message_id, snapshot))
        if prediction.outbox and not prediction.flushing:
            prediction.flushing = True
            self.runtime.spawn(self._flush(prediction))

    async def _flush(self, prediction: Prediction) -> None:
        """Send queued webhooks in event order (deliveries, and retries, then run concurrently)."""
        try:
            while prediction.outbox:
                target, kind, message_id, snapshot = prediction.outbox.popleft()
                try:
                    body = await self.encode(snapshot, self.form("webhook"), prediction.base)
                except Exception:  # a webhook that cannot be built must not stop the ones after it
                    logger.exception("cannot build the %s webhook of prediction %s", kind, prediction.id)
                    continue
                self.runtime.webhooks.send(
                    surface=SURFACE,
                    url=target.url,
                    body=orjson.dumps(body),
                    policy=TERMINAL_POLICY if kind == "completed" else INTERMEDIATE_POLICY,
                    event=kind,
                    job_id=prediction.id,
                    headers={"Content-Type": "application/json", "webhook-id": message_id},
                    signer=self._sign,
                    context=prediction.context,
                )
        finally:
            prediction.flushing = False

    def _sign(self, delivery: Delivery, body: bytes) -> dict[str, str]:
        """Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, a fresh timestamp per attempt."""
        sent_at = str(int(self.runtime.clock.now()))
        content = f"{delivery.headers['webhook-id']}.{sent_at}.".encode() + body
        signature = base64.b64encode(hmac.new(self._key, content, hashlib.sha256).digest()).decode()
        return {"webhook-timestamp": sent_at, "webhook-signature": f"v1,{signature}"}

    async def _enforce_deadline(self, prediction: Prediction, job: Job) -> None:
        assert prediction.deadline is not None
        remaining = prediction.deadline - self.runtime.clock.now()
        if await self.runtime.jobs.wait(job, lambda current: current.state.terminal, timeout=remaining):
            return
        prediction.aborted = job.state is State.QUEUED
        job.cancel(self.runtime.clock.now())

    # --- input images ------------------------------------------------------------------------------

    async def _load_inputs(self, values: list[str], base: str) -> list[Loaded]:
        """Read every `image_input` entry as the model would; BrokenInput for the first it cannot load."""
        located = [await self._locate(index, value, base) for index, value in enumerate(values)]
        sources = [source for source, _ in located]
        inline = sum(len(source) for source in sources if isinstance(source, (str, bytes)))
        if inline > INLINE_THREAD_THRESHOLD:
            measured = await anyio.to_thread.run_sync(_measure_all, sources)
        else:
            measured = _measure_all(sources)
        return [Loaded(item.size, warnings, item.notes) for item, (_, warnings) in zip(measured, located, strict=True)]

    async def _locate(self, index: int, value: str, base: str) -> tuple[Source, tuple[str, ...]]:
        """What an input stands for (a data URI, bytes, a known size, or None for an unmeasured public URL) and
        the journal warnings it leaves: emulator files are read, other URLs go through the remote fetcher."""
        if images.is_data_uri(value):
            return value, ()
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            host = None
        if host is None or parts.scheme.lower() not in ("http", "https"):
            raise BrokenInput(
                _run_error("brokenImageInput", index=index, reason=f"{value[:200]} is not an HTTP(S) URL or data URI")
            )
        if parts.netloc.lower() == urlsplit(base).netloc.lower():
            return self._stored(index, value, parts.path), ()
        fetched = await self.runtime.remote.fetch(value, IMAGE_INPUT["maxBytes"] - 1)
        if fetched.status == "unreachable":
            raise BrokenInput(_run_error("brokenImageInput", index=index, reason=fetched.detail))
        warnings = (f"image_input[{index}]: {fetched.warning}",) if fetched.warning else ()
        if fetched.too_large:
            reason = f"{value[:200]} is larger than {IMAGE_INPUT['maxBytes']:,} bytes"
            raise BrokenInput(_run_error("brokenImageInput", index=index, reason=reason))
        return fetched.data, warnings

    def _stored(self, index: int, value: str, path: str) -> Source:
        """An input on the emulator's own host: an upload of the files API, or an earlier output."""
        match = FILE_API_PATH.match(path)
        if match and match.group("prefix") == self.prefix:
            record = self.file(match.group("id"))
            artifact = self.runtime.artifacts.get(record.id) if record else None
            if artifact is None or artifact.blob is None:
                raise BrokenInput(
                    _run_error("brokenImageInput", index=index, reason=f"{value} was not found (deleted or expired)")
                )
            return artifact.blob
        match = OUTPUT_PATH.match(path)
        if match:
            artifact = self.runtime.artifacts.get(match.group("id"))
            if artifact is None:
                raise BrokenInput(
                    _run_error("brokenImageInput", index=index, reason=f"{value} was not found (expired)")
                )
            if artifact.spec is not None:
                return artifact.spec.width, artifact.spec.height
            return artifact.blob
        raise BrokenInput(_run_error("brokenImageInput", index=index, reason=f"{value} is not a file this API serves"))

    # --- files -------------------------------------------------------------------------------------

    def create_file(self, data: bytes, filename: str, content_type: str | None, metadata: dict[str, Any]) -> FileRecord:
        limits = RULES["files"]
        if len(data) >= limits["maxBytes"]:
            raise errors.file_too_large()
        if len(filename.encode("utf-8")) > limits["maxFilenameBytes"]:
            raise errors.invalid_upload(f"The filename must be at most {limits['maxFilenameBytes']} bytes long.")
        media_type = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        file_id = self.runtime.ids.token(26)
        now = self.runtime.clock.now()
        extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
        if not EXTENSION.match(extension):
            extension = (mimetypes.guess_extension(media_type) or ".bin").lstrip(".")
        try:
            self.runtime.artifacts.add_blob(file_id, data, media_type, extension.lower(), limits["ttlSeconds"])
        except StorageFull:
            raise errors.storage_full(self.runtime.artifacts.upload_bytes) from None
        record = FileRecord(
            id=file_id,
            seq=next(self._seq),
            name=filename,
            content_type=media_type,
            size=len(data),
            md5=hashlib.md5(data).hexdigest(),  # an ETag, as Replicate computes it
            sha256=hashlib.sha256(data).hexdigest(),
            metadata=metadata,
            created_at=now,
            expires_at=now + limits["ttlSeconds"],
        )
        self._files[file_id] = record
        return record

    def file(self, file_id: str) -> FileRecord | None:
        record = self._files.get(file_id)
        if record is not None and record.expires_at <= self.runtime.clock.now():
            self.delete_file(file_id)
            return None
        return record

    def file_content(self, record: FileRecord) -> bytes | None:
        artifact = self.runtime.artifacts.get(record.id)
        return artifact.blob if artifact is not None else None

    def delete_file(self, file_id: str) -> bool:
        record = self._files.pop(file_id, None)
        self.runtime.artifacts.remove(file_id)
        return record is not None

    def files(self) -> list[FileRecord]:
        now = self.runtime.clock.now()
        for file_id in [r.id for r in self._files.values() if r.expires_at <= now]:
            self.delete_file(file_id)
        return list(reversed(self._files.values()))

    @staticmethod
    def file_body(record: FileRecord, api_base: str) -> dict[str, Any]:
        return {
            "id": record.id,
            "name": record.name,
            "content_type": record.content_type,
            "size": record.size,
            "etag": record.md5,
            "checksums": {"sha256": record.sha256, "md5": record.md5},
            "metadata": record.metadata,
            "created_at": timestamp(record.created_at),
            "expires_at": timestamp(record.expires_at),
            "urls": {"get": f"{api_base}/v1/files/{record.id}"},
        }

    # --- models, account, secret ---------------------------------------------------------------------

    @staticmethod
    def is_model(owner: str, name: str) -> bool:
        return f"{owner}/{name}" == rules.MODEL_REF

    @staticmethod
    def version_body(version: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": version["id"],
            "created_at": version["created_at"],
            "cog_version": MODEL["cogVersion"],
            "openapi_schema": rules.openapi_schema(),
        }

    def model_body(self) -> dict[str, Any]:
        return {
            "url": MODEL["url"],
            "owner": MODEL["owner"],
            "name": MODEL["name"],
            "description": MODEL["description"],
            "visibility": MODEL["visibility"],
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "cover_image_url": None,
            "run_count": MODEL["runCount"],
            "default_example": None,
            "latest_version": self.version_body(rules.LATEST_VERSION),
        }

    @staticmethod
    def account_body() -> dict[str, Any]:
        return dict(RULES["account"])

    def reset(self) -> None:
        self._predictions.clear()
        self._files.clear()
        self._seq = itertools.count(1)

    def _remember(self, prediction: Prediction) -> None:
        self._predictions[prediction.id] = prediction
        while len(self._predictions) > self.max_predictions:
            self._predictions.popitem(last=False)


def derived_secret(seed: int) -> str:
    """A stable signing secret per emulator seed, without drawing from the id generator."""
    digest = hashlib.sha256(f"seedream-emulator replicate webhook secret {seed}".encode()).digest()
    return "whsec_" + base64.b64encode(digest[:24]).decode()


def valid_secret(secret: str) -> bool:
    prefix, underscore, encoded = secret.partition("_")
    if prefix != "whsec" or not underscore or "_" in encoded or not encoded:
        return False
    try:
        return len(base64.b64decode(encoded, validate=True)) > 0
    except (binascii.Error, ValueError):
        return False


def paginate(items: list[T], position: Callable[[T], int], cursor: str | None, size: int) -> Page:
    """Cursor pagination over `items` (most recent first), in the style of Replicate's Django REST cursors."""
    if cursor is None:
        window, reverse, pivot = items, False, None
    else:
        pivot, reverse = _decode_cursor(cursor)
        window = [item for item in items if (position(item) > pivot if reverse else position(item) < pivot)]
    if reverse:
        page = window[-size:]
        has_previous = len(window) > size
        has_next = bool(page) and any(position(item) < position(page[-1]) for item in items)
    else:
        page = window[:size]
        has_next = len(window) > size
        has_previous = bool(page) and any(position(item) > position(page[0]) for item in items)
    return Page(
        page,
        _encode_cursor(position(page[-1]), False) if has_next else None,
        _encode_cursor(position(page[0]), True) if has_previous else None,
    )


def _encode_cursor(position: int, reverse: bool) -> str:
    text = f"r=1&p={position}" if reverse else f"p={position}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, bool]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        fields = parse_qs(text, strict_parsing=True)
        position = int(fields["p"][0])
        reverse = fields.get("r", ["0"])[0] == "1"
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError):
        raise errors.invalid_cursor() from None
    return position, reverse


def _envelope(prediction: Prediction) -> dict[str, Any]:
    return {
        "id": prediction.id,
        "model": rules.MODEL_REF,
        "version": MODEL["predictionVersion"],
        "input": prediction.input,
    }


def _targets(body: Mapping[str, Any]) -> list[Target]:
    targets = []
    if isinstance(body.get("webhook"), str):
        events = body.get("webhook_events_filter")
        chosen = frozenset(events) if isinstance(events, list) else frozenset(rules.WEBHOOK_EVENTS)
        targets.append(Target(body["webhook"], chosen, throttled=True))
    if isinstance(body.get("webhook_completed"), str):
        targets.append(Target(body["webhook_completed"], frozenset({"completed"}), throttled=False))
    return targets


def _measure_all(sources: list[Source]) -> list[Loaded]:
    return [_measure(index, source) for index, source in enumerate(sources)]


def _measure(index: int, source: Source) -> Loaded:
    """Decode an input far enough to know its size; notes where it breaks a limit of ByteDance's own API."""
    if source is None or isinstance(source, tuple):
        return Loaded(source)
    try:
        data = images.decode_data_uri(source)[1] if isinstance(source, str) else source
        info = images.inspect(data, tuple(IMAGE_INPUT["formats"]))
    except images.BrokenImage as exc:
        raise BrokenInput(_run_error("brokenImageInput", index=index, reason=str(exc))) from None
    notes = []
    if len(data) > UPSTREAM["maxBytes"]:
        notes.append(NOTES["upstreamBytes"].format(index=index, size=len(data), maxBytes=UPSTREAM["maxBytes"]))
    ratio = UPSTREAM["maxAspectRatio"]
    if not 1 / ratio <= info.width / max(1, info.height) <= ratio:
        notes.append(
            NOTES["upstreamAspect"].format(index=index, width=info.width, height=info.height, maxAspectRatio=ratio)
        )
    if info.format not in UPSTREAM["formats"]:
        notes.append(NOTES["upstreamFormat"].format(index=index, format=info.format.upper()))
    return Loaded((info.width, info.height), notes=tuple(notes))


def _matches_input(input_: Mapping[str, Any]) -> bool:
    """Whether the output size follows the first input image (`match_input_image` outside `custom`)."""
    return bool(
        rules.value(input_, "size") != RULES["customSize"]
        and rules.value(input_, "aspect_ratio") == RULES["matchInputImage"]
    )


def _run_error(name: str, **values: Any) -> str:
    return str(RULES["runErrors"][name]).format(**values)


def _size_label(input_: Mapping[str, Any], first_size: Size | None) -> str:
    size = rules.value(input_, "size")
    if size == RULES["customSize"]:
        return "custom"
    ratio = rules.value(input_, "aspect_ratio")
    if ratio == RULES["matchInputImage"]:
        ratio = "matching the input image" if first_size else f"{RULES['fallbackAspectRatio']}, no input image"
    return f"{size}, {ratio}"


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
            lines.append(f"Error: {_error_text(job.failure)}")
    return "".join(line + "\n" for line in lines)


def _progress(done: int, total: int, elapsed: float) -> str:
    filled = done * 10 // total
    minutes, seconds = divmod(int(elapsed), 60)
    return (
        f"{done * 100 // total:3d}%|{'█' * filled}{' ' * (10 - filled)}| {done}/{total} [{minutes:02d}:{seconds:02d}]"
    )


def _error_text(failure: Failure | None) -> str:
    """The prediction's `error`: the failure's own message, or the text for its kind."""
    table: Mapping[str, str] = RULES["failures"]
    if failure is None:
        return table["provider_error"]
    if failure.message:
        return failure.message
    return table.get(failure.code) or table["default"].replace("{kind}", failure.code)
