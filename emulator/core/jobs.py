"""Job records, the lifecycle they follow, and the scheduler that drives them.

A job is created with a plan (when it starts, when each image is ready, how it ends). Its state
is derived from that plan and the clock: reading a job advances it to "now". A background task per
job advances it without readers so that side effects (webhooks, socket pushes) happen on time.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from .clock import Clock

if TYPE_CHECKING:
    from .state import StateDir


class State(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({State.SUCCEEDED, State.FAILED, State.CANCELED})
QUEUED: str = State.QUEUED._value_

TRANSITIONS: dict[State, frozenset[State]] = {
    State.QUEUED: frozenset({State.RUNNING, State.FAILED, State.CANCELED}),
    State.RUNNING: frozenset({State.SUCCEEDED, State.FAILED, State.CANCELED}),
}

NEVER = math.inf
NOWHERE: frozenset[State] = frozenset()
EventKind = Literal["state", "output"]
# The steps of every finished job: none. Shared, and never added to (only a plan makes steps).
FINISHED: list[Step] = []


class InvalidTransition(Exception):
    pass


class Overloaded(Exception):
    """Too many unfinished jobs; surfaces answer with their own capacity error (a 429)."""

    retry_after = 1.0


@dataclass(frozen=True)
class Failure:
    code: str
    message: str

    @staticmethod
    def text(failure: Failure | None, table: Mapping[str, str]) -> str:
        """What a provider reports for a failure: its own message, else the table's text for its kind, else the
        table's `default` with {kind} filled in (`provider_error` when there is no failure at all)."""
        if failure is None:
            return table["provider_error"]
        if failure.message:
            return failure.message
        return str(table.get(failure.code) or table["default"].replace("{kind}", failure.code))


@dataclass(frozen=True)
class Plan:
    """What will happen to a job, in seconds after creation.

    `stall_in` keeps the job in that state for ever (until canceled or advanced by hand).
    """

    queue_seconds: float
    output_offsets: tuple[float, ...]
    failure: Failure | None = None
    stall_in: State | None = None
    # With a failure: how many images are made before it (a group that fails part-way).
    failed_after: int = 0


@dataclass(slots=True)
class Step:
    kind: Literal["start", "output", "finish"]
    at: float
    index: int = -1


# Not frozen: a frozen dataclass pays a Python-level `object.__setattr__` per field (2 us for an Event against 0.4),
# and four of them are made for every job. Treat it as read-only all the same.
@dataclass(slots=True)
class Event:
    job_id: str
    kind: EventKind
    at: float
    state: State
    index: int | None = None


Listener = Callable[["Job", Event], None]


@dataclass(slots=True)
class Job:
    """One job. Once it has finished it lets go of its listeners and waiters: a finished job is kept by the
    hundred thousand, and every object it holds is one more for the garbage collector to walk."""

    id: str
    surface: str
    created_at: float
    output_count: int
    data: Any = None
    model: str | None = None  # as the client named it, for people reading the control plane
    failure: Failure | None = None
    state: State = State.QUEUED
    outputs_ready: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    # The timeline as plain tuples (kind, at, state value, index): they are not objects the collector has to walk
    # once they hold only strings and numbers, and a retained job keeps its timeline as long as it is kept.
    _events: list[tuple[EventKind, float, str, int | None]] = field(default_factory=list, repr=False)
    _steps: list[Step] = field(default_factory=list, repr=False)
    _planned_failure: Failure | None = field(default=None, repr=False)
    _listeners: tuple[Listener, ...] = field(default=(), repr=False)
    _waiters: list[asyncio.Future[None]] | None = field(default=None, repr=False)

    @property
    def timeline(self) -> list[Event]:
        """Every event so far, oldest first."""
        return [Event(self.id, kind, at, State(state), index) for kind, at, state, index in self._events]

    def on_event(self, listener: Listener) -> None:
        self._listeners = (*self._listeners, listener)

    @property
    def next_step_at(self) -> float | None:
        return self._steps[0].at if self._steps else None

    def refresh(self, now: float) -> None:
        while self._steps and self._steps[0].at <= now:
            self._apply(self._steps.pop(0))

    def advance(self, now: float) -> bool:
        """Carry out the next planned step now, whatever its planned time; False when none is left."""
        if not self._steps:
            return False
        step = self._steps.pop(0)
        step.at = max(now, self.created_at)
        self._apply(step)
        return True

    def cancel(self, now: float) -> bool:
        if self.state.terminal:
            return False
        self._steps.clear()
        self._enter(State.CANCELED, now)
        return True

    def fail(self, failure: Failure, now: float) -> bool:
        if self.state.terminal:
            return False
        self._steps.clear()
        self.failure = failure
        self._enter(State.FAILED, now)
        return True

    def _apply(self, step: Step) -> None:
        if step.kind == "start":
            self._enter(State.RUNNING, step.at)
        elif step.kind == "output":
            self.outputs_ready = step.index + 1
            self._emit(Event(self.id, "output", step.at, self.state, step.index))
        elif self._planned_failure is not None:
            self.failure = self._planned_failure
            self._enter(State.FAILED, step.at)
        else:
            self._enter(State.SUCCEEDED, step.at)

    def _run_now(self, plan: Plan, at: float) -> None:
        """Carry out a plan whose every step falls at `at` (the instant timing): the steps `plan_steps` would make and
        `refresh` apply, in the same order, without making them. A listener may end the job early (cancel it)."""
        self._enter(State.RUNNING, at)
        made = len(plan.output_offsets) if plan.failure is None else min(plan.failed_after, len(plan.output_offsets))
        for index in range(made):
            if self.state in TERMINAL:
                return
            self.outputs_ready = index + 1
            self._emit(Event(self.id, "output", at, self.state, index))
        if self.state in TERMINAL:
            return
        if plan.failure is not None:
            self.failure = plan.failure
            self._enter(State.FAILED, at)
        else:
            self._enter(State.SUCCEEDED, at)

    def _enter(self, state: State, at: float) -> None:
        if state not in TRANSITIONS.get(self.state, NOWHERE):
            raise InvalidTransition(f"{self.state} -> {state}")
        self.state = state
        if state is State.RUNNING:
            self.started_at = at
        elif state in TERMINAL:
            self.finished_at = at
        self._emit(Event(self.id, "state", at, state))

    def _emit(self, event: Event) -> None:
        # `_value_`, not `.value`: the enum's `value` is a Python-level descriptor, read for every event.
        self._events.append((event.kind, event.at, event.state._value_, event.index))
        for listener in self._listeners:
            listener(self, event)
        if self.state in TERMINAL:
            # Nothing follows the end: a finished job keeps no references and no containers it cannot use.
            self._listeners = ()
            self._steps = FINISHED
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def changed(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = [future]
        else:
            self._waiters.append(future)
        return future


def plan_steps(created_at: float, plan: Plan) -> list[Step]:
    start = created_at + plan.queue_seconds
    outputs = [start + offset for offset in plan.output_offsets]
    finish = max([start, *outputs])
    if plan.failure is not None:
        outputs = outputs[: plan.failed_after]
    steps = [Step("start", start)]
    steps += [Step("output", at, index) for index, at in enumerate(outputs)]
    steps.append(Step("finish", finish))
    if plan.stall_in is State.QUEUED:
        steps = [Step(step.kind, NEVER, step.index) for step in steps]
    elif plan.stall_in is State.RUNNING:
        steps = steps[:1] + [Step(step.kind, NEVER, step.index) for step in steps[1:]]
    return steps


class JobEngine:
    """Creates, stores, advances and evicts jobs; one per emulator instance."""

    def __init__(self, clock: Clock, max_jobs: int = 100_000, max_active: int = 10_000) -> None:
        self.clock = clock
        self.max_jobs = max_jobs
        self.max_active = max_active
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._finished: deque[str] = deque()
        self._active = 0
        self._drivers: set[asyncio.Task[None]] = set()
        self.state: StateDir | None = None

    def create(
        self,
        job_id: str,
        surface: str,
        plan: Plan,
        data: Any = None,
        listener: Listener | None = None,
        model: str | None = None,
    ) -> Job:
        if self._active >= self.max_active:
            raise Overloaded(f"{self._active} jobs are unfinished (the limit is {self.max_active})")
        now = self.clock.now()
        job = Job(job_id, surface, now, len(plan.output_offsets), data=data, model=model)
        job._planned_failure = plan.failure
        self._active += 1
        job._listeners = (self._track,) if listener is None else (self._track, listener)
        job._events.append(("state", now, QUEUED, None))
        self._store(job)
        if self.state is not None:
            self.state.touch_job(job)
        if plan.queue_seconds == 0 and plan.stall_in is None and not any(plan.output_offsets):
            job._run_now(plan, now)  # every step falls now: the job ends as it begins
            return job
        job._steps = plan_steps(now, plan)
        job.refresh(now)
        self._drive(job)
        return job

    def adopt(self, job: Job) -> None:
        """Take back a job read from the state directory, in the order it was made; it advances on read as ever,
        and `resume` drives it again."""
        self._jobs[job.id] = job
        if job.state.terminal:
            self._finished.append(job.id)
        else:
            self._active += 1

    def resume(self) -> None:
        """Drive every unfinished job (after `adopt`, once an event loop runs)."""
        for job in list(self._jobs.values()):
            job.refresh(self.clock.now())
            if not job.state.terminal:
                self._drive(job)

    def get(self, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.refresh(self.clock.now())
        return job

    def __contains__(self, job_id: str) -> bool:
        return job_id in self._jobs

    def __iter__(self) -> Iterator[Job]:
        now = self.clock.now()
        for job in list(self._jobs.values()):
            job.refresh(now)
            yield job

    def __len__(self) -> int:
        return len(self._jobs)

    def advance(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None:
            job.advance(self.clock.now())
        return job

    def cancel(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None:
            job.cancel(self.clock.now())
        return job

    async def wait(self, job: Job, until: Callable[[Job], bool], timeout: float | None = None) -> bool:
        """Wait (on the engine's clock) until `until(job)` holds; False if `timeout` passed first."""
        deadline = None if timeout is None else self.clock.now() + timeout
        while True:
            job.refresh(self.clock.now())
            if until(job):
                return True
            if deadline is not None and self.clock.now() >= deadline:
                return False
            waits = [asyncio.ensure_future(job.changed())]
            if deadline is not None:
                waits.append(asyncio.ensure_future(self.clock.sleep_until(deadline)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for each in waits:
                    each.cancel()

    def reset(self) -> None:
        """Forget every job; unfinished ones are canceled first so nobody waits on them for ever."""
        for driver in self._drivers:
            driver.cancel()
        self._drivers.clear()
        now = self.clock.now()
        for job in self._jobs.values():
            job.cancel(now)
        self._jobs.clear()
        self._finished.clear()
        self._active = 0

    async def aclose(self) -> None:
        drivers = list(self._drivers)
        self.reset()
        await asyncio.gather(*drivers, return_exceptions=True)

    def _track(self, job: Job, event: Event) -> None:
        if self.state is not None:
            self.state.touch_job(job)
        if event.state in TERMINAL and event.kind == "state":
            self._active -= 1
            self._finished.append(job.id)

    def _store(self, job: Job) -> None:
        replaced = self._jobs.get(job.id)
        if replaced is not None and not replaced.state.terminal:
            replaced.cancel(self.clock.now())
        self._jobs[job.id] = job
        while len(self._jobs) > self.max_jobs and self._finished:
            oldest = self._jobs.get(self._finished.popleft())
            if oldest is not None and oldest.state.terminal:
                del self._jobs[oldest.id]
                # A surface's record and its job point at each other; letting go here frees the pair by reference
                # counting when the record goes too, instead of leaving a cycle only a full collection finds.
                oldest.data = None
                if self.state is not None:
                    self.state.forget_job(oldest.id)

    def _drive(self, job: Job) -> None:
        if job.next_step_at is None or job.next_step_at == NEVER:
            return
        driver = asyncio.get_running_loop().create_task(self._run(job))
        self._drivers.add(driver)
        driver.add_done_callback(self._drivers.discard)

    async def _run(self, job: Job) -> None:
        while (at := job.next_step_at) is not None and at != NEVER:
            await self.clock.sleep_until(at)
            job.refresh(self.clock.now())
