"""The live emulator as the official `replicate` client tests use it: only the Replicate surface, at the root."""

from __future__ import annotations

from typing import Any

from tests.sdk.live import LiveEmulator, Received, WebhookSink

__all__ = ["ReplicateLive", "Received", "WebhookSink"]


class ReplicateLive(LiveEmulator):
    def __init__(self, **settings: Any) -> None:
        super().__init__(**{"provider": "replicate", **settings})

    def routes(self) -> list[str]:
        return [entry.route for entry in self.runtime.journal.entries(surface="replicate")]
