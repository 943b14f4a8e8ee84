"""One emulator instance and its Python control API (what `/_emulator` exposes over HTTP)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.counts import MODES

from .core.faults import Rule
from .core.jobs import Failure, Job, State
from .core.keys import KeyPolicy
from .core.limits import Limit
from .core.runtime import Runtime
from .providers import Surface
from .settings import Settings


@dataclass
class Emulator:
    """What `app.state.emulator` holds. In-process tests drive it directly, e.g.

    emulator = app.state.emulator
    emulator.add_fault(action="error", status=429, retry_after=2, times=2, surface="runware")
    emulator.advance(task_uuid)
    """

    settings: Settings
    runtime: Runtime
    surfaces: list[Surface]
    # The cassette replay in front of the surfaces (`serve --replay`), for the control plane to report on.
    replay: Any = None

    def reset(self) -> None:
        """Forget jobs, files, journal, deliveries and fault rules; limits stay configured."""
        self.runtime.reset()
        for surface in self.surfaces:
            surface.reset()

    def surface(self, name: str) -> Surface:
        return next(surface for surface in self.surfaces if surface.name == name)

    def add_fault(self, rule: Rule | Mapping[str, Any] | None = None, **fields: Any) -> Rule:
        return self.runtime.faults.add(rule if rule is not None else fields)

    def remove_fault(self, rule_id: str) -> bool:
        return self.runtime.faults.remove(rule_id)

    def faults(self) -> list[Rule]:
        return self.runtime.faults.rules()

    def set_limit(
        self, surface: str, *, requests_per_minute: int | None = None, concurrency: int | None = None
    ) -> Limit:
        limit = Limit(requests_per_minute, concurrency)
        self.runtime.limits.set(surface, limit)
        return limit

    def policy(self) -> dict[str, Any]:
        targets = self.runtime.targets
        return {
            "strict": targets.strict,
            "callback_exempt": list(targets.exempt),
            "image_count": self.runtime.image_count,
            "api_keys": sorted(self.runtime.keys.accepted),
        }

    def set_policy(
        self,
        *,
        strict: bool | None = None,
        callback_exempt: list[str] | None = None,
        image_count: str | None = None,
        api_keys: list[str] | None = None,
    ) -> dict[str, Any]:
        """Switch production rules on or off at run time (the harness judges every case under them)."""
        if image_count is not None and image_count not in MODES:
            raise ValueError(f"image_count must be one of {', '.join(MODES)}; got {image_count!r}")
        if strict is not None:
            self.runtime.targets.strict = strict
        if callback_exempt is not None:
            self.runtime.targets.exempt = [str(prefix) for prefix in callback_exempt]
        if image_count is not None:
            self.runtime.image_count = image_count
        if api_keys is not None:
            self.runtime.keys = KeyPolicy.of(str(key) for key in api_keys)
        return self.policy()

    def jobs(self, *, surface: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        return [
            self._summary(job)
            for job in self.runtime.jobs
            if (surface is None or job.surface == surface) and (state is None or job.state == state)
        ]

    def job(self, job_id: str) -> dict[str, Any] | None:
        job = self.runtime.jobs.get(job_id)
        if job is None:
            return None
        return {
            **self._summary(job),
            "timeline": [
                {
                    "kind": event.kind,
                    "state": event.state.value,
                    "at": event.at,
                    **({"index": event.index} if event.index is not None else {}),
                }
                for event in job.timeline
            ],
            "deliveries": [delivery.as_dict() for delivery in self.runtime.webhooks.deliveries(job.id)],
        }

    def advance(self, job_id: str) -> dict[str, Any] | None:
        """Carry out the job's next planned step now (queued -> running -> each image -> done)."""
        if self.runtime.jobs.advance(job_id) is None:
            return None
        return self.job(job_id)

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        """Cancel an unfinished job now, as if its client had (a finished job stays as it is)."""
        if self.runtime.jobs.cancel(job_id) is None:
            return None
        return self.job(job_id)

    def fail(self, job_id: str, kind: str = "provider_error", message: str = "") -> dict[str, Any] | None:
        """Fail an unfinished job now with a failure kind, reported in the surface's own failure shape."""
        job = self.runtime.jobs.get(job_id)
        if job is None:
            return None
        job.fail(Failure(kind, message), self.runtime.clock.now())
        return self.job(job_id)

    @staticmethod
    def _summary(job: Job) -> dict[str, Any]:
        return {
            "id": job.id,
            "surface": job.surface,
            "model": job.model,
            "state": job.state.value,
            "terminal": job.state in (State.SUCCEEDED, State.FAILED, State.CANCELED),
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "outputs_ready": job.outputs_ready,
            "output_count": job.output_count,
            "failure": {"kind": job.failure.code, "message": job.failure.message} if job.failure else None,
            "next_step_at": job.next_step_at
            if job.next_step_at is not None and math.isfinite(job.next_step_at)
            else None,
            "stalled": job.next_step_at is not None and not math.isfinite(job.next_step_at),
        }
