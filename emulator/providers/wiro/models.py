"""Wiro's domain: tasks and their status sequence, task records, files and folders, socket frames and
callbacks. Transport-neutral: `routes.py` decodes HTTP and WebSocket messages into these calls.

A task follows one job of the core engine. The engine knows queued -> running -> image outputs ->
succeeded / failed / canceled; `rules.json` (`lifecycle`) says which Wiro statuses each of those
events stands for. Every status becomes one socket frame and fills its timestamp in the record.
"""

from __future__ import annotations

import asyncio
import logging
import re
import string
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio

from contracts import Violation
from contracts.wiro import rules
from emulator.core import images
from emulator.core.artifacts import Artifact, StorageFull
from emulator.core.directives import extract
from emulator.core.faults import Context, Rule
from emulator.core.http import dumps
from emulator.core.jobs import Event, Failure, Job, Overloaded, Plan, State
from emulator.core.render import GenerationSpec
from emulator.core.runtime import Runtime
from emulator.core.webhooks import RetryPolicy

from . import errors
from .auth import Authenticator, Project

logger = logging.getLogger(__name__)
SURFACE = "wiro"
CONTRACT = rules.CONTRACT
LIFECYCLE = rules.LIFECYCLE
MODEL = rules.MODEL
TIMESTAMPS: Mapping[str, str] = LIFECYCLE["timestamps"]
TERMINAL = frozenset(LIFECYCLE["terminal"])
CANCELED = frozenset(LIFECYCLE["canceled"])
TOKEN_ALPHABET = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
IMAGE_FIELDS = ("inputImage", "inputImageUrl")
FILE_PATH = re.compile(r"/files/(?P<id>[^/.]+)\.\w+$")
NUMBER = re.compile(r"^\s*-?[0-9]+(\.[0-9]+)?\s*$")
URL_START = re.compile(r"^\s*https?://", re.IGNORECASE)
EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")
INLINE_THREAD_THRESHOLD = 256 * 1024
# PNG is lossless; the quality is only recorded in the placeholder's metadata.
PNG_QUALITY = 100
CALLBACK = rules.RULES["callback"]
CALLBACK_POLICY = RetryPolicy.from_spec(CALLBACK)


@dataclass(frozen=True)
class Upload:
    """A multipart file part."""

    filename: str
    content_type: str
    data: bytes

    def describe(self) -> dict[str, Any]:
        return {"filename": self.filename, "contenttype": self.content_type, "size": len(self.data)}


@dataclass(frozen=True)
class References:
    """The inputImage entries of a Run as URLs, what was served only leniently, and why the task must fail."""

    urls: list[str]
    warnings: list[str]
    failure: str | None = None


@dataclass
class RunRequest:
    """A decoded Run body: `instance` is what `run.json` validates; `images` holds the inputImage entries."""

    instance: dict[str, Any]
    images: list[Any]


@dataclass
class Folder:
    id: str
    name: str
    parent_id: str
    project_key: str
    added_at: float


@dataclass
class WiroTask:
    id: str
    uuid: str
    token: str
    project: Project
    parameters: dict[str, str]
    callback_url: str
    base_url: str
    folder_id: str
    specs: list[GenerationSpec]
    output_ids: list[str]
    access_keys: list[str]
    created_at: float
    status: str = ""
    times: dict[str, float] = field(default_factory=dict)
    pexit: str = ""
    stdout: list[str] = field(default_factory=list)
    stderr: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    billed: bool = False
    outputs_made: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    context: Context = field(default_factory=lambda: Context(SURFACE), repr=False)
    # Leniency met while accepting the task (callback target, references taken on trust), for the journal entry.
    warnings: list[str] = field(default_factory=list, repr=False)
    _waiters: list[asyncio.Future[None]] = field(default_factory=list, repr=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def changed(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        return future

    def wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


def form_fields(pairs: Iterable[tuple[str, str | Upload]]) -> dict[str, Any]:
    """Multipart / URL-encoded fields as a JSON-like body: image fields collect every value, others keep the last."""
    fields: dict[str, Any] = {}
    for name, value in pairs:
        if name in IMAGE_FIELDS:
            fields.setdefault(name, []).append(value)
        else:
            fields[name] = value
    return fields


def plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body with file parts replaced by their description, as the contracts see them."""
    return {key: value.describe() if isinstance(value, Upload) else value for key, value in body.items()}


def decode_run(body: Mapping[str, Any]) -> RunRequest:
    instance = plain({key: value for key, value in body.items() if key not in IMAGE_FIELDS and value is not None})
    entries: list[Any] = []
    for name in IMAGE_FIELDS:
        if body.get(name) is not None:
            entries += _image_entries(body[name])
    if entries:
        instance["inputImage"] = [entry.describe() if isinstance(entry, Upload) else entry for entry in entries]
    if isinstance(instance.get("maxImages"), str):
        if instance["maxImages"].strip() == "":
            del instance["maxImages"]
        elif NUMBER.match(instance["maxImages"]):
            instance["maxImages"] = _number(instance["maxImages"])
    if isinstance(instance.get("watermark"), bool):
        instance["watermark"] = "true" if instance["watermark"] else "false"
    return RunRequest(instance, entries)


def _image_entries(value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    entries: list[Any] = []
    for item in values:
        if isinstance(item, str):
            entries += _split_urls(item)
        else:
            entries.append(item)
    return entries


def _split_urls(text: str) -> list[str]:
    """One URL, or several joined by commas; a comma inside a URL stays when the next piece is not a URL."""
    pieces = [piece.strip() for piece in text.split(",")]
    if len(pieces) > 1 and all(URL_START.match(piece) for piece in pieces if piece):
        return [piece for piece in pieces if piece]
    return [text.strip()] if text.strip() else []


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def run_reply(task: WiroTask) -> dict[str, Any]:
    return {"errors": [], "taskid": task.id, "socketaccesstoken": task.token, "result": True}


def detail_reply(record: dict[str, Any]) -> dict[str, Any]:
    return {"total": "1", "errors": [], "tasklist": [record], "result": True}


def action_reply(record: dict[str, Any]) -> dict[str, Any]:
    return {"errors": [], "tasklist": [record], "result": True}


def list_reply(item: dict[str, Any]) -> dict[str, Any]:
    return {"result": True, "errors": [], "list": [item]}


def _stamp(moment: float | None) -> str:
    return "0" if moment is None else str(int(moment))


class WiroService:
    def __init__(
        self,
        runtime: Runtime,
        *,
        projects: Sequence[Project],
        reject_reused_nonce: bool = True,
        tolerant_signature: bool = False,
        callback_body: str = "detail",
        artifact_ttl: float = 86_400.0,
        max_tasks: int = 100_000,
    ) -> None:
        self.runtime = runtime
        self.auth = Authenticator(
            projects, reject_reused_nonce=reject_reused_nonce, tolerant_signature=tolerant_signature
        )
        self.callback_body = callback_body
        self.artifact_ttl = artifact_ttl
        self.max_tasks = max_tasks
        # How a task's job is planned: (pixels, images) -> Plan. A plan with `failure` makes the task fail.
        self.planner: Callable[[int, int], Plan] = runtime.plan
        self._tasks: OrderedDict[str, WiroTask] = OrderedDict()
        self._by_token: dict[str, str] = {}
        self._folders: OrderedDict[str, Folder] = OrderedDict()
        self._roots: dict[str, str] = {}
        self._next_task_id: int | None = None

    # Validation ----------------------------------------------------------------------------------

    def violations(self, name: str, instance: Any) -> list[Violation]:
        validator = CONTRACT.validator(name)
        if not validator.is_valid(instance):
            return validator.violations(instance)
        return rules.check(instance) if name == "run" else []

    def check(self, name: str, instance: Any) -> None:
        found = self.violations(name, instance)
        if found:
            raise errors.from_violations(found)

    @staticmethod
    def check_model(owner: str, project: str) -> None:
        if not rules.is_model(owner, project):
            raise errors.model_not_found()

    # Run -------------------------------------------------------------------------------------------

    def context(self, route: str, project: Project, body: Mapping[str, Any], entry: Any = None) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        prompt = body.get("prompt") if route.startswith("POST /v1/Run") else None
        directives: tuple[Rule, ...] = ()
        if isinstance(prompt, str):
            _, directives = self.runtime.directives(prompt, entry)
        job = next(
            (body[key] for key in ("taskid", "tasktoken", "socketaccesstoken") if isinstance(body.get(key), str)), None
        )
        return Context(
            SURFACE,
            route,
            model=f"{MODEL['owner']}/{MODEL['project']}" if route.startswith("POST /v1/Run") else None,
            job=job,
            prompt=prompt if isinstance(prompt, str) else None,
            api_key=project.key,
            directives=directives,
        )

    async def run(
        self, project: Project, body: Mapping[str, Any], base_url: str, context: Context | None = None
    ) -> WiroTask:
        request = decode_run(body)
        for entry in request.images:
            if isinstance(entry, Upload) and len(entry.data) > rules.UPLOAD_MAX_BYTES:
                raise errors.file_too_large("inputImage")
        self.check("run", request.instance)
        instance = request.instance
        callback_warnings = self._check_callback(str(instance.get("callbackUrl") or ""))
        references = await self._references(request.images, base_url)
        urls = references.urls
        width, height = rules.dimensions(rules.size(instance))
        prompt = extract(instance["prompt"])[0]
        count = rules.image_count({**instance, "prompt": prompt}, self.runtime.image_count)
        ids = self.runtime.ids
        task_id = self._task_id()
        parameters = {"inputImage": ",".join(urls)} if urls else {}
        parameters.update(
            prompt=prompt,
            size=rules.size(instance),
            maxImages=str(rules.max_images(instance)),
            watermark=rules.watermark(instance),
        )
        specs = [
            GenerationSpec.create(
                prompt=prompt,
                provider=SURFACE,
                model=f"{MODEL['owner']}/{MODEL['project']}",
                job_id=task_id,
                index=index,
                seed=ids.uint32(),
                width=width,
                height=height,
                format=MODEL["outputFormat"],
                quality=PNG_QUALITY,
                reference_count=len(urls),
            )
            for index in range(count)
        ]
        task = WiroTask(
            id=task_id,
            uuid=ids.uuid4(),
            token=ids.token(rules.RULES["tokenLength"], TOKEN_ALPHABET),
            project=project,
            parameters=parameters,
            callback_url=str(instance.get("callbackUrl", "")),
            base_url=base_url,
            folder_id=ids.token(32, HEX),
            specs=specs,
            output_ids=[ids.token(32, HEX) for _ in specs],
            access_keys=[ids.token(rules.RULES["tokenLength"], string.ascii_letters) for _ in specs],
            created_at=self.runtime.clock.now(),
            warnings=[*callback_warnings, *references.warnings],
        )
        task.context = (context or Context(SURFACE, api_key=project.key)).with_job(task.uuid)
        plan = self.planner(width * height, count)
        if references.failure is not None:
            # Wiro downloads URL inputs while preprocessing: the task fails before any image is made.
            failure = Failure(rules.REFERENCE_FAILURES["code"], references.failure)
            plan = Plan(plan.queue_seconds, plan.output_offsets[:1], failure=failure)
        self._remember(task)
        self._enter(task, LIFECYCLE["queued"], task.created_at)
        try:
            self.runtime.start_job(task.context, plan, data=task, listener=self._on_event)
        except Overloaded as exc:
            self._forget(task)
            raise errors.limited(exc) from None
        return task

    def _check_callback(self, url: str) -> list[str]:
        """Production's callback rule (HTTPS, no internal host), read from the policy in force now: refused
        under --strict, else served with journal warnings; the harness's own receiver is exempt."""
        if not url:
            return []
        targets = self.runtime.targets
        refused = targets.refused(url)
        if refused:
            error = errors.parameters_invalid()
            error.violations = [
                Violation("/callbackUrl", problem.detail, f"callback:{problem.kind}") for problem in refused
            ]
            raise error
        return [rules.warning("callback", problem=warning) for warning in targets.warnings(url)]

    async def _references(self, entries: list[Any], base_url: str) -> References:
        """The inputImage entries as URLs. Files are checked and stored; the emulator's own file URLs are read
        from its store; loopback URLs are downloaded and checked; internal, reserved or failing URLs make the task
        fail, as Wiro's preprocessing would; public URLs cannot be reached offline and are taken on trust."""
        urls: list[str] = []
        warnings: list[str] = []
        failure: str | None = None
        for index, entry in enumerate(entries):
            path = f"/inputImage/{index}"
            if isinstance(entry, Upload):
                artifact = await self._store_image(entry, path)
                urls.append(self.runtime.file_url(base_url, artifact))
                continue
            if not isinstance(entry, str):
                raise errors.parameters_invalid(path, "an inputImage entry must be a URL or an uploaded file part")
            urls.append(entry)
            local = self._local_file(entry, base_url)
            if local is not None:
                problem = self._stored_problem(index, entry, local)
            else:
                problem, warning = await self._fetched_problem(index, entry)
                if warning is not None:
                    warnings.append(warning)
            failure = failure or problem
        return References(urls, warnings, failure)

    @staticmethod
    def _local_file(url: str, base_url: str) -> str | None:
        """The artifact id of a URL of the emulator's own /files/, else None."""
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        local = FILE_PATH.search(parts.path)
        return local.group("id") if local is not None and parts.netloc == urlsplit(base_url).netloc else None

    def _stored_problem(self, index: int, url: str, artifact_id: str) -> str | None:
        """Why a file of the emulator's store cannot be used as a reference (gone, or not an image), or None."""
        artifact = self.runtime.artifacts.get(artifact_id)
        if artifact is None:
            return rules.reference_failure("unreachable", index=index, detail=f"{url} has expired or never existed")
        if artifact.spec is None and "width" not in artifact.info:
            return rules.reference_failure("notImage", index=index, url=url, detail="the file is not an image")
        return None

    async def _fetched_problem(self, index: int, url: str) -> tuple[str | None, str | None]:
        """(why the task must fail, journal warning) for a URL outside the emulator."""
        fetched = await self.runtime.remote.fetch(url, rules.UPLOAD_MAX_BYTES)
        if fetched.status == "unreachable":
            return rules.reference_failure("unreachable", index=index, detail=fetched.detail or url), None
        if fetched.status == "offline":
            return None, rules.warning("offlineReference", index=index, url=url)
        warning = rules.warning("loopbackReference", index=index, url=url)
        if fetched.too_large or fetched.data is None:
            return rules.reference_failure("tooLarge", index=index, url=url, maxBytes=rules.UPLOAD_MAX_BYTES), warning
        try:
            await self._inspect(fetched.data)
        except images.BrokenImage as exc:
            return rules.reference_failure("notImage", index=index, url=url, detail=str(exc)), warning
        return None, warning

    @staticmethod
    async def _inspect(data: bytes) -> images.ImageInfo:
        if len(data) > INLINE_THREAD_THRESHOLD:
            return await anyio.to_thread.run_sync(images.inspect, data)
        return images.inspect(data)

    async def _store_image(self, upload: Upload, path: str) -> Artifact:
        try:
            info = await self._inspect(upload.data)
        except images.BrokenImage as exc:
            raise errors.parameters_invalid(path, f"{upload.filename or 'the file'}: {exc}") from None
        return self._add_blob(
            upload.data, info.media_type, info.extension, name=upload.filename, width=info.width, height=info.height
        )

    def _task_id(self) -> str:
        if self._next_task_id is None:
            # Wiro ids are auto-increment numbers; start somewhere seeded so runs are reproducible.
            self._next_task_id = 100_000 + self.runtime.ids.uint32() % 900_000
        value = self._next_task_id
        self._next_task_id += 1
        return str(value)

    def _remember(self, task: WiroTask) -> None:
        self._tasks[task.id] = task
        self._by_token[task.token] = task.id
        while len(self._tasks) > self.max_tasks:
            _, evicted = self._tasks.popitem(last=False)
            self._by_token.pop(evicted.token, None)

    def _forget(self, task: WiroTask) -> None:
        self._tasks.pop(task.id, None)
        self._by_token.pop(task.token, None)

    # Lifecycle -------------------------------------------------------------------------------------

    def _on_event(self, job: Job, event: Event) -> None:
        task: WiroTask = job.data
        if event.kind == "output" and event.index is not None:
            self._output(task, event.index, event.at)
        elif event.state is State.RUNNING:
            self._enter(task, LIFECYCLE["running"], event.at)
        elif event.state is State.SUCCEEDED:
            task.pexit = "0"
            self._enter(task, LIFECYCLE["succeeded"], event.at)
            self.runtime.spawn(self._postprocess(task))
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
            rendered = await asyncio.gather(*(self.runtime.artifacts.cache.get(spec) for spec in made))
            for index, (spec, data) in enumerate(zip(made, rendered, strict=True)):
                artifact = self.runtime.artifacts.add_generated(task.output_ids[index], spec, self.artifact_ttl)
                outputs.append(self._output_record(task, index, len(data), artifact))
        except Exception as exc:  # an emulator fault must still end the task, visibly, as a failed one
            logger.exception("Wiro postprocess failed for task %s", task.id)
            task.pexit = LIFECYCLE["failureExitCode"]
            task.stderr = f"postprocess failed: {type(exc).__name__}: {exc}"
        else:
            task.outputs = outputs
            task.billed = True
        self._enter(task, LIFECYCLE["postprocessed"], self.runtime.clock.now())

    def _output_record(self, task: WiroTask, index: int, size: int, artifact: Artifact) -> dict[str, Any]:
        now = _stamp(self.runtime.clock.now())
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
            self._emit(task, status, at, self._message(task, status))

    def _message(self, task: WiroTask, status: str) -> Any:
        if status == "task_output_full":
            return {"raw": "\n".join(task.stdout)}
        if status == "task_error_full":
            return {"raw": task.stderr}
        if status == "task_error":
            return task.stderr
        if status == "task_postprocess_end":
            return task.outputs
        return None

    def _emit(self, task: WiroTask, status: str, at: float, message: Any) -> None:
        task.status = status
        stamp = TIMESTAMPS.get(status)
        if stamp is not None:
            task.times.setdefault(stamp, at)
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
        task.wake()
        if terminal:
            self._callback(task, status)

    def _callback(self, task: WiroTask, status: str) -> None:
        if not task.callback_url:
            return
        record = self.record(task)
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

    # Records and task calls ------------------------------------------------------------------------

    def record(self, task: WiroTask) -> dict[str, Any]:
        times = task.times
        elapsed = self._elapsed(task)
        cost = f"{float(MODEL['cps']) * elapsed:.12f}" if task.billed else "0"
        record: dict[str, Any] = {
            "id": task.id,
            "uuid": task.uuid,
            "name": "",
            "socketaccesstoken": task.token,
            "parameters": dict(task.parameters),
            "debugoutput": "\n".join(task.stdout),
            "debugerror": task.stderr,
            "starttime": _stamp(times.get("starttime")),
            "endtime": _stamp(times.get("endtime")),
            "elapsedseconds": f"{elapsed:.4f}",
            "status": task.status,
            "cps": MODEL["cps"],
            "totalcost": cost,
            "guestid": None,
            "projectid": task.project.id,
            "modelid": MODEL["modelid"],
            "description": "",
            "basemodelid": "0",
            "runtype": "model",
            "modelfolderid": "",
            "modelfileid": "",
            "callbackurl": task.callback_url,
            "marketplaceid": None,
            "createtime": _stamp(task.created_at),
        }
        for stamp in (
            "canceltime",
            "assigntime",
            "accepttime",
            "preprocessstarttime",
            "preprocessendtime",
            "postprocessstarttime",
            "postprocessendtime",
        ):
            record[stamp] = _stamp(times.get(stamp))
        record.update(
            pexit=task.pexit,
            categories=rules.categories(),
            outputs=[dict(output) for output in task.outputs],
            size=str(sum(int(output["size"]) for output in task.outputs)),
            modeldescription=MODEL["description"],
            modelslugowner=MODEL["owner"],
            modelslugproject=MODEL["project"],
        )
        return record

    def _elapsed(self, task: WiroTask) -> float:
        started = task.times.get("starttime")
        if started is None:
            return 0.0
        ended = task.times.get("endtime", task.times.get("canceltime"))
        if ended is None:
            ended = started if task.terminal else self.runtime.clock.now()
        return max(0.0, ended - started)

    def find(self, project: Project, body: Mapping[str, Any]) -> WiroTask:
        """The task a Task/* body names (taskid first, then tasktoken / socketaccesstoken), advanced to now."""
        body = plain(body)
        self.check("taskDetail", body)
        task = None
        if body.get("taskid") is not None:
            task = self._tasks.get(str(body["taskid"]).strip())
        token = body.get("tasktoken") or body.get("socketaccesstoken")
        if task is None and isinstance(token, str):
            task = self._tasks.get(self._by_token.get(token, ""))
        if task is None:
            raise errors.task_not_found()
        if task.project.key != project.key:
            raise errors.permission_denied()
        self.runtime.jobs.get(task.uuid)
        return task

    def kill(self, project: Project, body: Mapping[str, Any]) -> WiroTask:
        task = self.find(project, body)
        if task.status in LIFECYCLE["cancellable"]:
            raise errors.kill_failed("queued")
        if task.status not in LIFECYCLE["killable"]:
            raise errors.kill_failed("finished")
        self.runtime.jobs.cancel(task.uuid)
        return task

    def cancel(self, project: Project, body: Mapping[str, Any]) -> WiroTask:
        task = self.find(project, body)
        if task.status not in LIFECYCLE["cancellable"]:
            raise errors.not_cancellable()
        self.runtime.jobs.cancel(task.uuid)
        return task

    # Socket ----------------------------------------------------------------------------------------

    def by_token(self, token: str) -> WiroTask | None:
        task = self._tasks.get(self._by_token.get(token, ""))
        if task is not None:
            self.runtime.jobs.get(task.uuid)
        return task

    async def frames(self, task: WiroTask) -> AsyncIterator[dict[str, Any]]:
        """Every frame of the task from the first (a late client catches up), then live ones, up to the terminal one."""
        sent = 0
        while True:
            while sent < len(task.frames):
                frame = task.frames[sent]
                sent += 1
                yield frame
                if frame["terminal"]:
                    return
            await task.changed()

    # Files -----------------------------------------------------------------------------------------

    def create_folder(self, project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
        body = plain(body)
        self.check("folderCreate", body)
        parent = self._folder(project, body.get("parentid"))
        folder = Folder(self.runtime.ids.token(32, HEX), body["name"], parent.id, project.key, self.runtime.clock.now())
        self._keep_folder(folder)
        return {
            "id": folder.id,
            "name": folder.name,
            "parentid": folder.parent_id,
            "size": "0",
            "contenttype": "",
            "addedtime": _stamp(folder.added_at),
        }

    async def upload(self, project: Project, body: Mapping[str, Any], base_url: str) -> dict[str, Any]:
        upload = body.get("file")
        self.check("upload", plain(body))
        assert isinstance(upload, Upload)
        folder = self._folder(project, plain(body).get("folderid"))
        info: images.ImageInfo | None
        try:
            info = await self._inspect(upload.data)
        except images.BrokenImage:
            info = None
        if info is not None:
            artifact = self._add_blob(
                upload.data, info.media_type, info.extension, name=upload.filename, width=info.width, height=info.height
            )
            content_type = info.media_type
        else:
            # Not an image: kept as bytes and served as application/octet-stream (never as the client's type).
            found = EXTENSION.search(upload.filename)
            artifact = self._add_blob(
                upload.data,
                "application/octet-stream",
                found.group(1).lower() if found else "bin",
                name=upload.filename,
            )
            content_type = upload.content_type
        return {
            "id": artifact.id,
            "name": upload.filename or f"{artifact.id}.{artifact.extension}",
            "contenttype": content_type,
            "size": str(len(upload.data)),
            "parentid": folder.id,
            "url": self.runtime.file_url(base_url, artifact),
            "addedtime": _stamp(self.runtime.clock.now()),
            "accesskey": self.runtime.ids.token(rules.RULES["tokenLength"], string.ascii_letters),
        }

    def _add_blob(self, data: bytes, media_type: str, extension: str, **info: Any) -> Artifact:
        try:
            return self.runtime.artifacts.add_blob(
                self.runtime.ids.token(32, HEX), data, media_type, extension, self.artifact_ttl, **info
            )
        except StorageFull:
            raise errors.storage_full() from None

    def _folder(self, project: Project, folder_id: Any) -> Folder:
        if folder_id is None or folder_id == "":
            return self._root(project)
        folder = self._folders.get(str(folder_id))
        if folder is None or folder.project_key != project.key:
            raise errors.folder_not_found()
        return folder

    def _root(self, project: Project) -> Folder:
        root_id = self._roots.get(project.key)
        if root_id is None:
            root = Folder(self.runtime.ids.token(32, HEX), "root", "", project.key, self.runtime.clock.now())
            self._roots[project.key] = root.id
            self._folders[root.id] = root
            return root
        return self._folders[root_id]

    def _keep_folder(self, folder: Folder) -> None:
        self._folders[folder.id] = folder
        roots = set(self._roots.values())
        while len(self._folders) > self.max_tasks + len(roots):
            oldest = next(folder_id for folder_id in self._folders if folder_id not in roots)
            del self._folders[oldest]

    def reset(self) -> None:
        self._tasks.clear()
        self._by_token.clear()
        self._folders.clear()
        self._roots.clear()
        self._next_task_id = None
        self.auth.reset()


def _stderr(failure: Failure | None) -> str:
    """What a failed task prints: the rule's message, or the text for its failure kind."""
    table: Mapping[str, str] = rules.RULES["failures"]
    if failure is None:
        return table["provider_error"]
    if failure.message:
        return failure.message
    return table.get(failure.code) or table["default"].replace("{kind}", failure.code)
