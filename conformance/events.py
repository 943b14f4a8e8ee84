"""The event stream of a run. Reporters consume it; the runner knows nothing about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class CheckInfo:
    id: str
    title: str
    rationale: str
    fact: str


@dataclass
class Evidence:
    """One image a client returned, as the harness saw it."""

    thumbnail: str | None
    metadata: dict[str, Any] | None
    problem: str | None = None


@dataclass
class CaseResult:
    check: str
    case: str
    title: str
    status: Status
    message: str = ""
    duration: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    images: list[Evidence] = field(default_factory=list)


@dataclass(frozen=True)
class RunStarted:
    provider: str
    adapter: str
    seed: int
    checks: tuple[CheckInfo, ...]
    emulator: str


@dataclass(frozen=True)
class CheckStarted:
    check: CheckInfo


@dataclass(frozen=True)
class CaseFinished:
    result: CaseResult


@dataclass(frozen=True)
class CheckFinished:
    check: CheckInfo
    passed: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class RunFinished:
    passed: bool
    duration: float
    results: tuple[CaseResult, ...]


Event = RunStarted | CheckStarted | CaseFinished | CheckFinished | RunFinished
