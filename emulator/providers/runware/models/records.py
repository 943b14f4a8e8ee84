"""What the emulator remembers of each task, by taskUUID in any case: for getResponse, and to refuse a reused UUID."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from emulator.core.jobs import Job
from emulator.core.retained import Retained

from .. import errors


class Claimed(enum.Enum):
    """A taskUUID held while its task is being accepted; an enum member so type checkers narrow on `is`."""

    CLAIMED = enum.auto()


CLAIMED = Claimed.CLAIMED


@dataclass(frozen=True)
class Stored:
    """A finished utility task (imageUpload, mediaStorage): its reply item, kept for getResponse."""

    item: dict[str, Any]


Record = Job | Stored | Claimed


class Records:
    """Bounded (`finished` says which records may go): a task still being accepted or running stays."""

    def __init__(self, store: Retained[str, Record]) -> None:
        self._records = store

    def get(self, task_uuid: str) -> Record | None:
        return self._records.get(task_uuid.lower())

    def put(self, task_uuid: str, record: Job | Stored) -> None:
        self._records.put(task_uuid.lower(), record)

    def claim(self, task_type: str, task_uuid: str) -> Claim:
        """Hold a taskUUID while the task is being accepted, so a concurrent duplicate conflicts; a task that is
        refused meanwhile leaves its UUID free."""
        return Claim(self._records, task_type, task_uuid)

    def clear(self) -> None:
        self._records.clear()


class Claim:
    """`Records.claim`: a plain context manager, as it runs once per task (a generator-based one costs more)."""

    __slots__ = ("_key", "_records", "_task_type", "_task_uuid")

    def __init__(self, records: Retained[str, Record], task_type: str, task_uuid: str) -> None:
        self._records, self._task_type, self._task_uuid = records, task_type, task_uuid
        self._key = task_uuid.lower()

    def __enter__(self) -> None:
        if self._key in self._records:
            raise errors.conflict(self._task_type, self._task_uuid)
        self._records.put(self._key, CLAIMED)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None and self._records.get(self._key) is CLAIMED:
            self._records.pop(self._key)


def finished(record: Record) -> bool:
    return isinstance(record, Stored) or (isinstance(record, Job) and record.state.terminal)
