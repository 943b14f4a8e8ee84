"""Replicate's domain, by resource: predictions (`predictions.py`, their JSON in `views.py`, their `image_input` in
`inputs.py`), their webhooks (`webhooks.py`), the files API (`files.py`), lists (`pagination.py`) and the model
catalog (`catalog.py`). Transport-neutral: `routes.py` decodes HTTP into these calls."""

from __future__ import annotations

from emulator.core.runtime import Runtime

from .. import errors
from .catalog import Catalog
from .files import Download, FileRecord, Files
from .inputs import Inputs
from .pagination import Page
from .predictions import Prediction, Predictions
from .views import SURFACE, Answer, FileOutputMode, Views
from .webhooks import Webhooks, valid_secret

__all__ = [
    "SURFACE",
    "Answer",
    "Catalog",
    "Download",
    "FileRecord",
    "Files",
    "Page",
    "Prediction",
    "Predictions",
    "ReplicateService",
    "valid_secret",
]


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
        # One sequence for predictions and files: the positions cursors name.
        self._numbers = runtime.sequence("replicate.numbers")
        self.catalog = Catalog()
        self.files = Files(runtime, self._numbers.next)
        self.views = Views(runtime, file_output=file_output, emit_aborted=emit_aborted)
        self.webhooks = Webhooks(runtime, self.views, webhook_secret)
        self.predictions = Predictions(
            runtime,
            self.views,
            self.webhooks,
            Inputs(runtime, self.files, prefix),
            self._numbers.next,
            artifact_ttl=artifact_ttl,
            limit=max_predictions,
        )

    def authenticate(self, token: str | None) -> str:
        """The token of `Authorization: Bearer <t>` (or the legacy `Token <t>`) if the key policy allows it."""
        if token is None or not self.runtime.keys.allows(token):
            raise errors.problem("unauthenticated")
        return token

    def reset(self) -> None:
        self.predictions.reset()
        self.files.reset()
        self._numbers.reset()
