"""Wiro's domain, by resource: projects authenticate (`auth.py`), tasks run (`tasks.py`, their statuses in
`lifecycle.py`, their inputs in `inputs.py`) and files are kept (`files.py`). Transport-neutral: `routes.py`
and `socket.py` decode HTTP and WebSocket messages into these calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from emulator.core.faults import Context
from emulator.core.journal import Entry
from emulator.core.runtime import Runtime

from ..auth import Authenticator, Project
from ..wire import SURFACE
from .files import Files
from .tasks import MODEL_NAME, Tasks, WiroTask

__all__ = ["SURFACE", "Files", "Tasks", "WiroService", "WiroTask"]
# What a Task/* body names its task by, in the order Wiro reads them.
TASK_KEYS = ("taskid", "tasktoken", "socketaccesstoken")


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
        self.files = Files(runtime, artifact_ttl=artifact_ttl, max_folders=max_tasks)
        self.tasks = Tasks(
            runtime, self.files, callback_body=callback_body, artifact_ttl=artifact_ttl, max_tasks=max_tasks
        )

    def context(self, route: str, project: Project, body: Mapping[str, Any], entry: Entry | None = None) -> Context:
        """What fault rules and limits match on; directives come from the prompt as the client sent it."""
        run = route.startswith("POST /v1/Run")
        return self.runtime.context(
            SURFACE,
            route,
            prompt=body.get("prompt") if run else None,
            model=MODEL_NAME if run else None,
            job=next((body[key] for key in TASK_KEYS if isinstance(body.get(key), str)), None),
            api_key=project.key,
            entry=entry,
        )

    def reset(self) -> None:
        self.tasks.reset()
        self.files.reset()
        self.auth.reset()
