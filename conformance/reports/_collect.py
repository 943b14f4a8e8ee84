"""What file reporters share: they collect the run, then write once it has finished."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from ..events import CaseFinished, CaseResult, Event, RunFinished, RunStarted


class Collecting(ABC):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.started: RunStarted | None = None
        self.results: list[CaseResult] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.started = event
        elif isinstance(event, CaseFinished):
            self.results.append(event.result)
        elif isinstance(event, RunFinished):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.write(event)

    @abstractmethod
    def write(self, finished: RunFinished) -> None: ...
