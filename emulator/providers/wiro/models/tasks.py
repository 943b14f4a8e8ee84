"""Wiro's tasks: a Run starts one, Task/Detail, Task/Kill and Task/Cancel find it by id or token, and the
socket follows its frames. Each task follows one job of the core engine (`lifecycle.py` turns the job's events
into Wiro statuses); the record Task/Detail returns is drawn from the task as of now.
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import Violation
from contracts.wiro import rules
from emulator.core.directives import extract
from emulator.core.faults import Context
from emulator.core.http import Part
from emulator.core.jobs import Failure, Job, Overloaded, Plan
from emulator.core.render import GenerationSpec
from emulator.core.retained import Retained
from emulator.core.runtime import Runtime

from .. import errors
from ..auth import Project
from ..wire import SURFACE, decode_run, plain, stamp
from . import inputs
from .files import HEX, Files
from .lifecycle import LIFECYCLE, TERMINAL, Lifecycle

MODEL = rules.MODEL
MODEL_NAME = f"{MODEL['owner']}/{MODEL['project']}"
TOKEN_ALPHABET = string.ascii_letters + string.digits
# PNG is lossless; the quality is only recorded in the placeholder's metadata.
PNG_QUALITY = 100
TIMES = (
    "canceltime",
    "assigntime",
    "accepttime",
    "preprocessstarttime",
    "preprocessendtime",
    "postprocessstarttime",
    "postprocessendtime",
)


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
    job: Job | None = field(default=None, repr=False)
    # Storing the outputs once the job succeeded: the last frames come from it, after the job has ended.
    postprocess: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def record(self, now: float) -> dict[str, Any]:
        """The task as Task/Detail (and the callback) show it."""
        elapsed = self.elapsed(now)
        record: dict[str, Any] = {
            "id": self.id,
            "uuid": self.uuid,
            "name": "",
            "socketaccesstoken": self.token,
            "parameters": dict(self.parameters),
            "debugoutput": "\n".join(self.stdout),
            "debugerror": self.stderr,
            "starttime": stamp(self.times.get("starttime")),
            "endtime": stamp(self.times.get("endtime")),
            "elapsedseconds": f"{elapsed:.4f}",
            "status": self.status,
            "cps": MODEL["cps"],
            "totalcost": f"{float(MODEL['cps']) * elapsed:.12f}" if self.billed else "0",
            "guestid": None,
            "projectid": self.project.id,
            "modelid": MODEL["modelid"],
            "description": "",
            "basemodelid": "0",
            "runtype": "model",
            "modelfolderid": "",
            "modelfileid": "",
            "callbackurl": self.callback_url,
            "marketplaceid": None,
            "createtime": stamp(self.created_at),
        }
        record.update({name: stamp(self.times.get(name)) for name in TIMES})
        record.update(
            pexit=self.pexit,
            categories=rules.categories(),
            outputs=[dict(output) for output in self.outputs],
            size=str(sum(int(output["size"]) for output in self.outputs)),
            modeldescription=MODEL["description"],
            modelslugowner=MODEL["owner"],
            modelslugproject=MODEL["project"],
        )
        return record

    def elapsed(self, now: float) -> float:
        started = self.times.get("starttime")
        if started is None:
            return 0.0
        ended = self.times.get("endtime", self.times.get("canceltime"))
        if ended is None:
            ended = started if self.terminal else now
        return max(0.0, ended - started)


class Tasks:
    def __init__(
        self, runtime: Runtime, files: Files, *, callback_body: str, artifact_ttl: float, max_tasks: int
    ) -> None:
        self.runtime = runtime
        self.files = files
        self.lifecycle = Lifecycle(runtime, callback_body=callback_body, artifact_ttl=artifact_ttl)
        # How a task's job is planned: (pixels, images) -> Plan. A plan with `failure` makes the task fail.
        self.planner: Callable[[int, int], Plan] = runtime.plan
        # Kept by id and by socket token; both forget the same finished tasks, in the same order.
        self._tasks: Retained[str, WiroTask] = runtime.retained("wiro.tasks", max_tasks, _finished)
        self._by_token: Retained[str, WiroTask] = runtime.retained("wiro.tasks_by_token", max_tasks, _finished)
        self._next_id: int | None = None

    def __len__(self) -> int:
        return len(self._tasks)

    def get(self, task_id: str) -> WiroTask | None:
        return self._tasks.get(task_id)

    async def run(self, project: Project, body: Mapping[str, Any], base_url: str, context: Context) -> WiroTask:
        """Start the task a Run body asks for; a WiroError when the body is refused."""
        request = decode_run(body)
        for entry in request.images:
            if isinstance(entry, Part) and len(entry.data) > rules.UPLOAD_MAX_BYTES:
                raise errors.file_too_large("inputImage")
        errors.check(rules.REQUEST_SCHEMA, request.instance)
        instance = request.instance
        callback_warnings = self._check_callback(str(instance.get("callbackUrl") or ""))
        found = await inputs.read(self.runtime, self.files, request.images, base_url)
        width, height = rules.dimensions(rules.size(instance))
        prompt = extract(instance["prompt"])[0]
        count = rules.image_count({**instance, "prompt": prompt}, self.runtime.image_count)
        ids = self.runtime.ids
        task_id = self._task_id()
        parameters = {"inputImage": ",".join(found.urls)} if found.urls else {}
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
                model=MODEL_NAME,
                job_id=task_id,
                index=index,
                seed=ids.uint32(),
                width=width,
                height=height,
                format=MODEL["outputFormat"],
                quality=PNG_QUALITY,
                reference_count=len(found.urls),
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
            warnings=[*callback_warnings, *found.warnings],
        )
        task.context = context.with_job(task.uuid)
        plan = self.planner(width * height, count)
        if found.failure is not None:
            # Wiro downloads URL inputs while preprocessing: the task fails before any image is made.
            failure = Failure(rules.REFERENCE_FAILURES["code"], found.failure)
            plan = Plan(plan.queue_seconds, plan.output_offsets[:1], failure=failure)
        self.lifecycle.queued(task)
        try:
            task.job = self.runtime.start_job(task.context, plan, data=task, listener=self.lifecycle.on_event)
        except Overloaded as exc:
            raise errors.limited(exc) from None
        self._tasks.put(task.id, task)
        self._by_token.put(task.token, task)
        return task

    # Each Task/* call reads the clock once: a task that ends between two readings would otherwise be shown running
    # with more elapsed seconds than it ends with.
    def detail(self, project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.runtime.clock.now()
        return self._find(project, body, now).record(now)

    def kill(self, project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.runtime.clock.now()
        task = self._find(project, body, now)
        if task.status in LIFECYCLE["cancellable"]:
            raise errors.kill_failed("queued")
        if task.status not in LIFECYCLE["killable"]:
            raise errors.kill_failed("finished")
        self._job(task).cancel(now)
        return task.record(now)

    def cancel(self, project: Project, body: Mapping[str, Any]) -> dict[str, Any]:
        now = self.runtime.clock.now()
        task = self._find(project, body, now)
        if task.status not in LIFECYCLE["cancellable"]:
            raise errors.named("notCancellable")
        self._job(task).cancel(now)
        return task.record(now)

    def by_token(self, token: str) -> WiroTask | None:
        task = self._by_token.get(token)
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
            if task.job is not None and not task.job.state.terminal:
                await task.job.changed()
            elif task.postprocess is not None and not task.postprocess.done():
                await asyncio.wait([task.postprocess])
            else:
                return  # the task was forgotten (a reset) before its last frame: nothing more will come

    def reset(self) -> None:
        self._tasks.clear()
        self._by_token.clear()
        self._next_id = None

    def _find(self, project: Project, body: Mapping[str, Any], now: float) -> WiroTask:
        """The task a Task/* body names (taskid first, then tasktoken / socketaccesstoken), advanced to `now`."""
        body = plain(body)
        errors.check("taskDetail", body)
        task = None
        if body.get("taskid") is not None:
            task = self._tasks.get(str(body["taskid"]).strip())
        token = body.get("tasktoken") or body.get("socketaccesstoken")
        if task is None and isinstance(token, str):
            task = self._by_token.get(token)
        if task is None:
            raise errors.named("taskNotFound")
        if task.project.key != project.key:
            raise errors.named("permissionDenied")
        self._job(task).refresh(now)
        return task

    @staticmethod
    def _job(task: WiroTask) -> Job:
        assert task.job is not None  # a task is stored only once its job started
        return task.job

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

    def _task_id(self) -> str:
        if self._next_id is None:
            # Wiro ids are auto-increment numbers; start somewhere seeded so runs are reproducible.
            self._next_id = 100_000 + self.runtime.ids.uint32() % 900_000
        value = self._next_id
        self._next_id += 1
        return str(value)


def _finished(task: WiroTask) -> bool:
    return task.job is None or task.job.state.terminal
