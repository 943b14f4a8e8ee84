"""Runware's domain: tasks in, jobs and result items out. Transport-neutral: REST and WebSocket share it.

The service answers one task (`answer`) or a whole request array (`complete`) and composes the parts: `records`
(what is remembered of each taskUUID), `references` (images a task names, and uploads) and `results` (jobs,
result items, polling and deliveries). `tasks` says what a task is before anything runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from emulator.core.directives import extract
from emulator.core.faults import Context
from emulator.core.jobs import Job
from emulator.core.runtime import Runtime

from .. import errors
from ..errors import RunwareError
from . import tasks
from .records import Records, finished
from .references import References
from .results import Results
from .tasks import CONTRACT, SURFACE, Answer, Exchange, Reply

__all__ = ["CONTRACT", "SURFACE", "Answer", "Exchange", "Reply", "RunwareService"]

PONG = Answer(data=({"taskType": "ping", "pong": True},))
YIELD_EVERY = 16


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
        self.mixed_replies = mixed_replies
        self.records = Records(runtime.retained("runware.records", max_tasks, finished))
        self.references = References(runtime, self.records, artifact_ttl)
        self.results = Results(
            runtime, self.records, self.references, webhook_envelope=webhook_envelope, artifact_ttl=artifact_ttl
        )

    def authenticate(self, api_key: object) -> str:
        if api_key is None or api_key == "":
            raise errors.named("missingApiKey")
        if not isinstance(api_key, str) or not self.runtime.keys.allows(api_key):
            raise errors.invalid_api_key()
        return api_key

    async def complete(self, array: list[Any], exchange: Exchange) -> Reply:
        """A whole request array, answered once its sync tasks have finished: data and errors in task order."""
        answers = []
        for position, task in enumerate(array):
            answers.append(await self.answer(task, exchange, f"/{position}"))
            if position % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a long array must not starve other clients
        if len(answers) == 1:  # the common request: one task
            answer = await self._finished(answers[0]) if answers[0].job is not None else answers[0]
            data, failures = list(answer.data), list(answer.errors)
        else:
            running = [answer for answer in answers if answer.job is not None]
            if len(running) == 1:  # without a task per answer: nothing else runs meanwhile
                answers = [await self._finished(answer) if answer.job is not None else answer for answer in answers]
            elif running:
                answers = list(await asyncio.gather(*map(self._finished, answers)))
            data = [item for answer in answers for item in answer.data]
            failures = [error for answer in answers for error in answer.errors]
        if failures and (not data or not self.mixed_replies):
            return Reply([], failures, failures[0].status)
        return Reply(data, failures)

    async def answer(self, task: Any, exchange: Exchange, at: str) -> Answer:
        """One task of a request array or socket frame (at `at` in it), whatever the transport. Its refusal is an
        error item; what the journal should know goes to the exchange's entry."""
        task_type, task_uuid = tasks.identity(task)
        if task_uuid and task_type not in (None, "authentication", "ping"):
            exchange.entry.ids.append(task_uuid)
        try:
            return await self._answer(task, exchange)
        except RunwareError as exc:
            exchange.entry.add_violations({**found.as_dict(), "path": at + found.path} for found in exc.violations)
            return Answer(errors=(exc.about(task_type, task_uuid),))

    async def stream(
        self, job: Job, *, batch: bool = False, ready: Callable[[], Awaitable[bool]] | None = None
    ) -> AsyncIterator[Answer]:
        """A sync task's images as they finish, one answer each (`batch`: all of them at the end), then its error
        if it failed. Each image is made only once `ready` says its answer can leave (a socket is attached): an
        encoded 4K image waiting for a client that may never come back is what must not be held."""
        sent = 0
        while True:
            await self.runtime.jobs.wait(job, _progressed(sent, batch))
            # Read together: the job may move on while the answers below are being sent.
            finished, made = job.state.terminal, job.outputs_ready
            items = []
            for index in range(sent, made):
                if ready is not None and not await ready():
                    return
                item = await self.results.item(job.data, index)
                if batch:
                    items.append(item)
                else:
                    yield Answer(data=(item,))
            sent = made
            if items:
                yield Answer(data=tuple(items))
            if finished:
                break
        failure = self.results.failure(job)
        if failure is not None:
            yield Answer(errors=(failure,))

    def reset(self) -> None:
        self.records.clear()

    async def _answer(self, task: Any, exchange: Exchange) -> Answer:
        task_type = tasks.task_type(task)
        if task_type == "ping":
            return PONG
        if task_type == "authentication":
            return Answer()
        prompt, context = self._context(task, exchange)
        await exchange.admit(context)
        tasks.check(task_type, task, strict_sizes=self.strict_sizes)
        if task_type == "getResponse":
            data, failures = await self.results.poll(task["taskUUID"])
            return Answer(tuple(data), tuple(failures))
        if task_type != "imageInference":
            return Answer(data=(await self.references.upload(task_type, task, exchange.base_url, exchange.entry),))
        tasks.lenient(task, self.runtime.targets, exchange.entry)  # read per task: the policy changes at run time
        assert prompt is not None
        job = await self.results.submit(task, prompt, exchange.base_url, context, exchange.entry)
        if task.get("deliveryMethod") == "async":
            return Answer(data=({"taskType": task_type, "taskUUID": task["taskUUID"]},))
        return Answer(job=job)

    def _context(self, task: dict[str, Any], exchange: Exchange) -> tuple[str | None, Context]:
        """What fault rules and limits match on, and the prompt the model reads: directives are taken out of the
        prompt as the client sent it (and noted in the journal)."""
        raw = task.get("positivePrompt") if task.get("taskType") == "imageInference" else None
        context = self.runtime.context(
            SURFACE,
            exchange.route,
            prompt=raw,
            model=task.get("model"),
            job=tasks.identity(task)[1],
            api_key=exchange.api_key,
            transport=exchange.transport,
            entry=exchange.entry,
        )
        return (extract(raw)[0] if isinstance(raw, str) else None), context

    async def _finished(self, answer: Answer) -> Answer:
        """A sync task's answer once its job has ended: every image, then its error if it failed."""
        job = answer.job
        if job is None:
            return answer
        if not job.state.terminal:  # a job planned to end at once (instant timing) has ended already
            await self.runtime.jobs.wait(job, lambda current: current.state.terminal)
        failure = self.results.failure(job)
        return Answer(tuple(await self.results.items(job)), (failure,) if failure is not None else ())


def _progressed(sent: int, batch: bool) -> Callable[[Job], bool]:
    """Whether a job has news for a stream that has sent `sent` images: finished, or (unbatched) a new image."""
    return lambda job: job.state.terminal or (not batch and job.outputs_ready > sent)
