"""Everything one emulator instance owns; `create_app` builds one, providers share it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from .artifacts import Artifact, ArtifactStore
from .clock import Clock, SystemClock
from .ids import IdSource
from .jobs import JobEngine, Plan
from .journal import Journal
from .timing import TimingProfile, profile
from .webhooks import WebhookDispatcher


@dataclass
class Runtime:
    clock: Clock
    ids: IdSource
    timing: TimingProfile
    jobs: JobEngine
    artifacts: ArtifactStore
    journal: Journal
    webhooks: WebhookDispatcher
    public_url: str | None = None
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
    ) -> Runtime:
        clock = clock or SystemClock()
        return cls(
            clock=clock,
            ids=IdSource(seed),
            timing=profile(timing),
            jobs=JobEngine(clock, max_jobs=max_jobs, max_active=max_active_jobs),
            artifacts=ArtifactStore(
                clock, cache_bytes=cache_bytes, upload_bytes=upload_bytes, realistic_size=realistic_sizes
            ),
            journal=Journal(journal_size),
            webhooks=WebhookDispatcher(clock, seed=seed, transport=webhook_transport),
            public_url=public_url.rstrip("/") if public_url else None,
        )

    def plan(self, pixels: int, count: int) -> Plan:
        return Plan(self.timing.queue_seconds(), tuple(self.timing.output_offsets(pixels, count)))

    def base_url(self, request_base: str) -> str:
        """The base of URLs handed out: --public-url, else how the client reached us."""
        return self.public_url or request_base.rstrip("/")

    @staticmethod
    def file_url(base: str, artifact: Artifact) -> str:
        return f"{base}/files/{artifact.id}.{artifact.extension}"

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

    async def aclose(self) -> None:
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.jobs.aclose()
        await self.webhooks.aclose()
        self.artifacts.close()
