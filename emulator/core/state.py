"""Accepted work that outlives the process: `--state DIR`.

Jobs, the records surfaces keep of them (every `Retained` store a surface makes through `Runtime.retained`),
artifacts (generated images as specs, uploads as bytes) and webhook deliveries not yet finished are written
through to one SQLite file. Nothing is written on a timer: whatever a request changed is committed before the first
byte of its reply leaves (`Durable`, the outermost middleware), and whatever changes in the background (a job
advancing on its own clock) is committed as soon as the event loop is free. A process killed with `kill -9`
therefore loses no reply it gave: a client that was told "accepted" finds its task after the restart.

Objects are pickled one record at a time, so one record never drags a surface's whole state in with it:

- a job inside a record, or a record inside another store, is written as a reference and found again on load;
- the live objects a record or a job points at (a surface's service, the job engine, their bound methods, such as
  a job's listeners and a delivery's signer) are written as names, and bound again to the new process's objects,
  which are built the same way from the same settings;
- what cannot outlive a process (tasks, futures, events, sockets) comes back as None.

Not kept: the journal, fault rules, limits and policies (control-plane state, set again by whoever set it), Wiro's
nonce memory and Runware's socket sessions (a socket does not survive a restart). A delivery interrupted by the
restart starts its retries again from the first attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import pickle
import sqlite3
import types
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .jobs import FINISHED, Job

FILE = "emulator.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (kind TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, blob BLOB NOT NULL,
                                 PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
JOB = "job"
ARTIFACT = "artifact"
DELIVERY = "delivery"
RECORD = "record:"
SEQUENCE = "sequence"
JOB_FIELDS = tuple(f.name for f in fields(Job) if f.name != "_waiters")
# How deep into a surface's objects names are given: service -> its parts -> theirs.
ROOT_DEPTH = 3
MAX_UNWRITTEN = 20
TRANSIENT_MODULES = ("asyncio", "_asyncio", "concurrent", "threading", "socket", "ssl", "starlette", "uvicorn")


class StateDir:
    """One state directory, open for one emulator."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.directory / FILE, isolation_level=None)
        # WAL with NORMAL sync: a commit is in the OS's hands when it returns, which is what `kill -9` needs.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM rows").fetchone()[0]
        self.starts = int(self.meta("starts") or 0) + 1
        self.set_meta("starts", str(self.starts))
        # What could not be written (a local function, a method of an unnamed object): a bug in whoever holds it.
        self.unwritten: list[str] = []
        self._roots: dict[str, object] = {}
        self._root_names: dict[int, str] = {}
        self._stores: dict[str, Any] = {}
        self._order: dict[str, int] = {}
        self._homes: dict[int, tuple[str, str, object]] = {}
        self._shells: dict[str, Job] = {}
        self._dirty_jobs: dict[str, Job] = {}
        self._dirty_records: dict[tuple[str, str], object] = {}
        self._dirty_values: dict[tuple[str, str], object] = {}
        self._deleted: set[tuple[str, str]] = set()
        self._scheduled = False
        self._loading = False
        self._closed = False

    # --- names -------------------------------------------------------------------------------------------------

    def root(self, name: str, obj: object, depth: int = ROOT_DEPTH) -> None:
        """Name `obj` and the project's objects it holds (to `depth`), so references to them are written as names."""
        if id(obj) in self._root_names or depth < 0:
            return
        self._roots[name] = obj
        self._root_names[id(obj)] = name
        for attribute, value in vars(obj).items() if hasattr(obj, "__dict__") else ():
            if type(value).__module__.startswith("emulator."):
                self.root(f"{name}.{attribute}", value, depth - 1)

    # --- stores ------------------------------------------------------------------------------------------------

    def store(self, name: str, store: Any) -> None:
        if name in self._stores:
            raise ValueError(f"two stores are named {name!r}")
        self._order[name] = len(self._stores)
        self._stores[name] = store

    def home(self, store: str, key: str, value: object) -> None:
        """`value` lives in `store` under `key`. A value kept in several stores (a second index) is written once,
        in the store made first, which is also the one loaded first."""
        home = self._homes.get(id(value))
        if home is None or home[2] is not value or self._order[store] < self._order[home[0]]:
            self._homes[id(value)] = (store, key, value)

    def leave(self, store: str, key: str, value: object) -> None:
        home = self._homes.get(id(value))
        if home is not None and home[:2] == (store, key):
            del self._homes[id(value)]
        self._dirty_records.pop((store, key), None)
        self._deleted.add((RECORD + store, key))
        self._schedule()

    def touch_record(self, store: str, key: str, value: object) -> None:
        if not (self._loading or self._closed):
            self._dirty_records[(store, key)] = value
            self._schedule()

    def touch_job(self, job: Job) -> None:
        if not (self._loading or self._closed):
            self._dirty_jobs[job.id] = job
            self._schedule()

    def forget_job(self, job_id: str) -> None:
        self._dirty_jobs.pop(job_id, None)
        self._deleted.add((JOB, job_id))
        self._schedule()

    def clear(self) -> None:
        if self._closed:
            return
        self._dirty_jobs.clear()
        self._dirty_records.clear()
        self._dirty_values.clear()
        self._deleted.clear()
        self._homes.clear()
        self._db.execute("DELETE FROM rows")

    # --- writing -----------------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Commit everything touched since the last flush, in one transaction."""
        self._scheduled = False
        if self._closed:
            return
        if not (self._dirty_jobs or self._dirty_records or self._dirty_values or self._deleted):
            return
        jobs, self._dirty_jobs = self._dirty_jobs, {}
        records, self._dirty_records = self._dirty_records, {}
        values, self._dirty_values = self._dirty_values, {}
        deleted, self._deleted = self._deleted, set()
        dumps: list[tuple[str, str, Callable[[], bytes]]] = [
            (JOB, job.id, functools.partial(self._dump_job, job)) for job in jobs.values()
        ]
        dumps += [
            (RECORD + store, key, functools.partial(self._dump_record, store, key, value))
            for (store, key), value in records.items()
        ]
        dumps += [(kind, key, functools.partial(self._dumps, value, None)) for (kind, key), value in values.items()]
        rows = []
        for kind, key, dump in dumps:
            try:
                rows.append((kind, key, dump()))
            except Exception as exc:  # a value pickle refuses: keep serving, and say what was not kept
                self._unwritable(f"{kind} {key}: {type(exc).__name__}: {exc}"[:300])
        with self._transaction():
            self._db.executemany("DELETE FROM rows WHERE kind = ? AND key = ?", list(deleted))
            self._upsert(rows)

    def save(self, kind: str, key: str, value: object) -> None:
        """Write a value of its own kind (an artifact, a delivery) with the next flush."""
        if not (self._loading or self._closed):
            self._deleted.discard((kind, key))
            self._dirty_values[(kind, key)] = value
            self._schedule()

    def delete(self, kind: str, key: str) -> None:
        self._dirty_values.pop((kind, key), None)
        self._deleted.add((kind, key))
        self._schedule()

    def describe(self) -> dict[str, object]:
        """For the health endpoint."""
        return {"directory": str(self.directory), "starts": self.starts, "unwritten": self.unwritten}

    def _unwritable(self, what: str) -> None:
        if what not in self.unwritten and len(self.unwritten) < MAX_UNWRITTEN:
            self.unwritten.append(what)

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        """Write what is pending, then nothing more: what happens while the process shuts down is not kept."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        self._db.close()

    def _schedule(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _upsert(self, rows: list[tuple[str, str, bytes]]) -> None:
        numbered = []
        for kind, key, blob in rows:
            self._seq += 1
            numbered.append((kind, key, self._seq, blob))
        self._db.executemany(
            "INSERT INTO rows (kind, key, seq, blob) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET blob = excluded.blob",
            numbered,
        )

    def _dump_job(self, job: Job) -> bytes:
        # The job itself, wherever its record points back at it, is written as a reference to its own row.
        return self._dumps({name: getattr(job, name) for name in JOB_FIELDS}, None)

    def _dump_record(self, store: str, key: str, value: object) -> bytes:
        home = self._homes.get(id(value))
        itself = home is None or home[:2] == (store, key)
        return self._dumps(value, value if itself else None)

    def _dumps(self, value: object, itself: object) -> bytes:
        buffer = io.BytesIO()
        _Pickler(buffer, self, itself).dump(value)
        return buffer.getvalue()

    # --- reading -----------------------------------------------------------------------------------------------

    def rows(self, kind: str) -> Iterator[tuple[str, bytes]]:
        yield from self._db.execute("SELECT key, blob FROM rows WHERE kind = ? ORDER BY seq", (kind,))

    def value(self, kind: str, key: str) -> Any:
        row = self._db.execute("SELECT blob FROM rows WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return None if row is None else self.load(row[0])

    def load(self, blob: bytes) -> Any:
        return _Unpickler(io.BytesIO(blob), self).load()

    def restore(self, adopt: Callable[[Job], None]) -> None:
        """Bring back every store's records, then every job (its record, listeners and steps), handing each job
        to `adopt`; stores and roots must all be registered by now."""
        self._loading = True
        try:
            job_rows = list(self.rows(JOB))
            self._shells = {key: Job.__new__(Job) for key, _ in job_rows}
            for name, store in self._stores.items():
                for key, blob in self.rows(RECORD + name):
                    value = self.load(blob)
                    store.restore(key, value)
                    self.home(name, key, value)
            for key, blob in job_rows:
                job = self._shells[key]
                for name, value in self.load(blob).items():
                    setattr(job, name, value)
                job._waiters = None
                job._listeners = tuple(listener for listener in job._listeners if listener is not None)
                if job.state.terminal:
                    job._steps = FINISHED
                adopt(job)
        finally:
            self._loading = False
            self._shells = {}


class Durable:
    """ASGI middleware: whatever a request changed is committed before its reply (or a socket's next frame)
    leaves, so a client is never told of work a crash can lose."""

    def __init__(self, app: ASGIApp, state: StateDir) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def committed(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.send", "websocket.close"):
                state.flush()
            await send(message)

        await self.app(scope, receive, committed)


class Sequence:
    """Numbers 1, 2, 3... that go on after a restart (positions a surface's cursors name)."""

    def __init__(self, name: str, state: StateDir | None) -> None:
        self.name = name
        self._state = state
        self._last = int(state.value(SEQUENCE, name) or 0) if state is not None else 0

    def next(self) -> int:
        self._last += 1
        if self._state is not None:
            self._state.save(SEQUENCE, self.name, self._last)
        return self._last

    def reset(self) -> None:
        self._last = 0


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, state: StateDir, itself: object) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._state = state
        self._itself = itself

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._itself or obj is None or type(obj) in _PLAIN:
            return None
        state = self._state
        if type(obj) is Job:
            return ("job", obj.id)
        home = state._homes.get(id(obj))
        if home is not None and home[2] is obj:
            return ("record", home[0], home[1])
        name = state._root_names.get(id(obj))
        if name is not None:
            return ("root", name)
        if isinstance(obj, types.MethodType):
            owner = state._root_names.get(id(obj.__self__))
            if owner is not None:
                return ("method", owner, obj.__func__.__name__)
            state._unwritable(f"a method of an unnamed object: {obj!r}")
            return ("gone",)
        if isinstance(obj, types.FunctionType) and ("<locals>" in obj.__qualname__ or obj.__name__ == "<lambda>"):
            state._unwritable(f"a local function: {obj.__qualname__}")
            return ("gone",)
        if type(obj).__module__.split(".")[0] in TRANSIENT_MODULES:
            return ("gone",)
        return None


_PLAIN = frozenset({str, int, float, bool, bytes, tuple, list, dict})


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, state: StateDir) -> None:
        super().__init__(file)
        self._state = state

    def persistent_load(self, token: Any) -> Any:
        kind = token[0]
        state = self._state
        if kind == "job":
            return state._shells.get(token[1])
        if kind == "record":
            store = state._stores.get(token[1])
            return None if store is None else store.get(token[2])
        if kind == "root":
            return state._roots.get(token[1])
        if kind == "method":
            owner = state._roots.get(token[1])
            return None if owner is None else getattr(owner, token[2], None)
        return None
