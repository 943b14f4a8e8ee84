"""A Runware task before anything runs (its type and UUID, its contract, what it asks that the emulator serves more
kindly than Runware), and what answering tasks yields: an `Answer` per task, a `Reply` per request array."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import Violation, load
from contracts.addresses import host_of
from contracts.runware import rules
from emulator.core.faults import Context
from emulator.core.jobs import Job
from emulator.core.journal import Entry
from emulator.core.targets import TargetPolicy

from .. import errors
from ..errors import RunwareError

SURFACE = "runware"
CONTRACT = load("runware")
TASK_TYPES = frozenset(CONTRACT.schema("task")["properties"]["taskType"]["enum"])
TARGET_PARAMETERS = ("webhookURL", "uploadEndpoint")

Admit = Callable[[Context], Awaitable[None]]


# Exchange, Answer and Reply are made for every request and live only while it is answered: slotted and not frozen
# (a frozen dataclass pays a Python-level `object.__setattr__` per field), read-only all the same.
@dataclass(slots=True)
class Exchange:
    """The transport's side of one request array or socket frame: the route it came by, its journal entry, the
    key it authenticated with, the base of the URLs it is given, and admission (fault rules and limits), which
    raises a RunwareError or `Disconnected` after cutting the connection the way the transport does."""

    route: str
    entry: Entry
    admit: Admit
    base_url: str
    api_key: str | None

    @property
    def transport(self) -> str:
        return "ws" if self.route.startswith("WS") else "http"


@dataclass(slots=True)
class Answer:
    """What one task yields: items to send now, errors, or a sync imageInference job whose images follow."""

    data: tuple[dict[str, Any], ...] = ()
    errors: tuple[RunwareError, ...] = ()
    job: Job | None = None


@dataclass(slots=True)
class Reply:
    """What a request array is answered with: its data items, its error items and the HTTP status."""

    data: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RunwareError] = field(default_factory=list)
    status: int = 200


def identity(task: Any) -> tuple[str | None, str | None]:
    """The taskType and taskUUID a task names, whatever else is wrong with it."""
    task_type = task.get("taskType") if isinstance(task, dict) else None
    task_uuid = task.get("taskUUID") if isinstance(task, dict) else None
    return task_type if isinstance(task_type, str) else None, task_uuid if isinstance(task_uuid, str) else None


def task_type(task: Any) -> str:
    """The task's type, or the task schema's error for it."""
    found = task.get("taskType") if isinstance(task, dict) else None
    if isinstance(found, str) and found in TASK_TYPES:
        return found
    check("task", task)
    raise AssertionError("the task schema accepts exactly the task types TASK_TYPES lists")


def violations(name: str, task: Any, *, strict_sizes: bool = True) -> list[Violation]:
    validator = CONTRACT.validator(name)
    if not validator.is_valid(task):
        return validator.violations(task)
    if name == "imageInference":
        return rules.check(task, strict_sizes=strict_sizes)
    return []


def check(name: str, task: Any, *, strict_sizes: bool = True) -> None:
    """Raise a RunwareError for the first violation of the contract, carrying all of them."""
    found = violations(name, task, strict_sizes=strict_sizes)
    if found:
        model = task.get("model") if isinstance(task, Mapping) else None
        raise errors.refused(found, model if isinstance(model, str) else None)


def lenient(task: Mapping[str, Any], targets: TargetPolicy, entry: Entry) -> None:
    """What a valid imageInference task asks that Runware might not serve: webhook and upload targets under the
    production rule (refused under --strict, else warned about; the operator's exempt prefixes are silent), and
    keys its model's documentation does not list (warned about) or that the emulator ignores (noted)."""
    for parameter in TARGET_PARAMETERS:
        url = task.get(parameter)
        if not isinstance(url, str):
            continue
        problems = targets.problems(url)
        if problems and targets.strict:
            violation = rules.target_violation(parameter, problems[0].kind, url, host_of(url), task["model"])
            raise errors.refused([violation])
        entry.warnings.extend(rules.target_warning(parameter, problem.kind, url, host_of(url)) for problem in problems)
    warnings, notes = rules.leniency(task)
    if warnings:
        entry.warnings.extend(warnings)
    if notes:
        entry.notes.extend(notes)
