"""Everything one emulator instance owns; `create_app` builds one, providers share it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from contracts.counts import Mode

from .artifacts import STATE_KIND as ARTIFACTS
from .artifacts import Artifact, ArtifactStore
from .clock import Clock, SystemClock
from .directives import extract
from .faults import Context, FaultEngine, Rule
from .ids import IdSource
from .jobs import Job, JobEngine, Listener, Overloaded, Plan
from .journal import Entry, Journal
from .keys import KeyPolicy
from .limits import Limit, Limited, Limiter
from .references import References
from .remote import RemoteImages
from .render import GenerationSpec
from .retained import Retained
from .state import Sequence, StateDir
from .targets import TargetPolicy
from .timing import TimingProfile, profile
from .webhooks import STATE_KIND as DELIVERIES
from .webhooks import WebhookDispatcher

V = TypeVar("V")


@dataclass
class Admission:
    """Whether a request goes ahead; otherwise the fault error, the limit hit, or how to disconnect."""

    error: Rule | None = None
    limited: Limited | Overloaded | None = None
    disconnect: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.limited is None and self.disconnect is None


@dataclass
class Runtime:
    clock: Clock
    ids: IdSource
    timing: TimingProfile
    jobs: JobEngine
    artifacts: ArtifactStore
    journal: Journal
    webhooks: WebhookDispatcher
    faults: FaultEngine
    limits: Limiter
    public_url: str | None = None
    targets: TargetPolicy = field(default_factory=TargetPolicy)
    keys: KeyPolicy = field(default_factory=KeyPolicy)
    remote: RemoteImages = field(default_factory=RemoteImages)
    image_count: Mode = "prompt"
    state: StateDir | None = None
    _background: set[asyncio.Task[Any]] = field(default_factory=set, repr=False)

    @classmethod
    def create(
        cls,
        *,
        seed: int,
        timing: str = "fast",
        clock: Clock | None = None,
        public_url: str | None = None,
        max_jobs: int = 100_000,
        max_active_jobs: int = 10_000,
        journal_size: int = 10_000,
        cache_bytes: int = 256 * 2**20,
        upload_bytes: int = 1024 * 2**20,
        realistic_sizes: bool = True,
        webhook_transport: httpx.AsyncBaseTransport | None = None,
        limits: dict[str, Limit] | None = None,
        strict: bool = False,
        callback_exempt: tuple[str, ...] = (),
        image_count: Mode = "prompt",
        fetch_transport: httpx.AsyncBaseTransport | None = None,
        api_keys: tuple[str, ...] = (),
        state: Path | None = None,
    ) -> Runtime:
        clock = clock or SystemClock()
        faults = FaultEngine(seed)
        policy = TargetPolicy(strict, list(callback_exempt))
        return cls(
            clock=clock,
            ids=IdSource(seed),
            timing=profile(timing),
            jobs=JobEngine(clock, max_jobs=max_jobs, max_active=max_active_jobs),
            artifacts=ArtifactStore(
                clock, cache_bytes=cache_bytes, upload_bytes=upload_bytes, realistic_size=realistic_sizes
            ),
            journal=Journal(journal_size),
            webhooks=WebhookDispatcher(
                clock, seed=seed, transport=webhook_transport, faults=faults, guard=policy.resolved_problem
            ),
            faults=faults,
            limits=Limiter(clock, limits),
            public_url=public_url.rstrip("/") if public_url else None,
            targets=policy,
            keys=KeyPolicy.of(api_keys),
            remote=RemoteImages(fetch_transport),
            image_count=image_count,
        )._durable(state)

    def _durable(self, directory: Path | None) -> Runtime:
        if directory is None:
            return self
        self.state = StateDir(directory)
        # Ids drawn after a restart must not repeat the ones drawn before it.
        self.ids.reseed(self.state.starts)
        self.jobs.state = self.artifacts.state = self.webhooks.state = self.state
        return self

    def retained(self, name: str, limit: int, done: Callable[[V], bool] = lambda _: True) -> Retained[str, V]:
        """A surface's bounded store of records, named (`<surface>.<what>`), durable when there is a state
        directory."""
        return Retained(limit, done, name=name, state=self.state)

    def sequence(self, name: str) -> Sequence:
        """Numbers that go on after a restart when there is a state directory."""
        return Sequence(name, self.state)

    def restore(self, roots: dict[str, object]) -> None:
        """Read the state directory back, once every surface is built: `roots` names each surface's service."""
        if self.state is None:
            return
        state = self.state
        for name, component in (("jobs", self.jobs), ("artifacts", self.artifacts), ("webhooks", self.webhooks)):
            state.root(f"runtime.{name}", component, depth=0)
        for name, root in roots.items():
            state.root(name, root)
        state.restore(self.jobs.adopt)
        self.artifacts.restore(state.load(blob) for _, blob in state.rows(ARTIFACTS))
        self.webhooks.restore([state.load(blob) for _, blob in state.rows(DELIVERIES)])

    def resume(self) -> None:
        """Drive restored jobs and deliveries again (on start-up, inside the event loop)."""
        self.jobs.resume()
        self.webhooks.resume()

    @property
    def references(self) -> References:
        """Reference images found through the store and the remote fetcher in use now."""
        return References(self.artifacts, self.remote)

    def plan(self, pixels: int, count: int) -> Plan:
        return Plan(self.timing.queue_seconds(), tuple(self.timing.output_offsets(pixels, count)))

    @staticmethod
    def directives(prompt: str, entry: Entry | None = None) -> tuple[str, tuple[Rule, ...]]:
        """The prompt without its `[[emulator:...]]` blocks and the rules they ask for."""
        clean, rules, warnings = extract(prompt)
        if entry is not None and warnings:
            entry.notes.extend(warnings)
        return clean, rules

    def context(
        self,
        surface: str,
        route: str,
        *,
        prompt: object = None,
        model: object = None,
        job: str | None = None,
        api_key: str | None = None,
        transport: str = "http",
        entry: Entry | None = None,
    ) -> Context:
        """What fault rules and limits match a request on; directives come from the prompt as the client sent it
        (a prompt or model that is not a string matches nothing)."""
        rules: tuple[Rule, ...] = ()
        if isinstance(prompt, str):
            _, rules = self.directives(prompt, entry)
        return Context(
            surface,
            route,
            model=model if isinstance(model, str) else None,
            job=job,
            prompt=prompt if isinstance(prompt, str) else None,
            api_key=api_key,
            transport=transport,
            directives=rules,
        )

    async def admit(self, context: Context) -> Admission:
        """The request-phase faults and rate limits for a request, after any added latency."""
        decision = self.faults.request(context)
        if decision.latency > 0:
            await self.clock.sleep_until(self.clock.now() + decision.latency)
        if decision.disconnect is not None or decision.error is not None:
            return Admission(
                error=decision.error, disconnect=decision.disconnect.disconnect if decision.disconnect else None
            )
        try:
            self.limits.admit(context.surface, context.api_key)
        except Limited as exc:
            return Admission(limited=exc)
        return Admission()

    def start_job(self, context: Context, plan: Plan, *, data: Any = None, listener: Listener | None = None) -> Job:
        """Create the job for an accepted request: per-key concurrency, job-phase faults, then the engine.

        `plan` usually comes from `plan(pixels, count)`. Raises `Limited` (per key) or `Overloaded`
        (whole emulator); surfaces answer both with their own 429.
        """
        assert context.job is not None
        self.limits.reserve(context.surface, context.api_key)
        plan = self.faults.plan(plan, context)
        job = self.jobs.create(context.job, context.surface, plan, data=data, listener=listener, model=context.model)
        self.limits.track(context.surface, context.api_key, job)
        return job

    def base_url(self, request_base: str) -> str:
        """The base of URLs handed out: --public-url, else how the client reached us."""
        return self.public_url or request_base.rstrip("/")

    @staticmethod
    def file_url(base: str, artifact: Artifact) -> str:
        return ArtifactStore.url(base, artifact.id, artifact.extension)

    async def render(self, spec: GenerationSpec) -> bytes:
        """The bytes of a generated image (rendered once, then cached by content)."""
        return await self.artifacts.cache.get(spec)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def settle(self) -> None:
        """Wait for background work and outbound deliveries (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.webhooks.drain()

    def reset(self) -> None:
        for task in self._background:
            task.cancel()
        self._background.clear()
        self.jobs.reset()
        self.artifacts.reset()
        self.journal.reset()
        self.webhooks.reset()
        self.ids.reset()
        self.faults.reset()
        self.limits.reset()
        if self.state is not None:
            self.state.clear()

    async def aclose(self) -> None:
        if self.state is not None:
            # Shutting down cancels what is unfinished; a persistent emulator keeps it unfinished instead.
            self.state.close()
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.jobs.aclose()
        await self.webhooks.aclose()
        await self.remote.aclose()
