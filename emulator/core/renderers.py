"""Child processes that render, so that a render never holds up the event loop.

Pillow holds the interpreter lock for much of a render (drawing; JPEG encoding in calls of 5-10 ms each), and render
threads made the event loop's thread wait for that lock, and on a machine with as many cores as render threads, for a
core as well: requests answered in 1 ms took 10-30 ms while 4K images rendered. Child processes share no lock with
the loop and run at a lower CPU priority. A child returns only the encoder's output (a few hundred KB for a 4K
placeholder); the caller pads it, in pieces that are shared and never copied (padding.pieces).

One pool serves every emulator in the process: a render is a pure function of its spec. It starts on first use (or
`start`, which a server calls at start-up so the first download does not wait for it) and its children leave when the
process that started them does, however it ends.

Only a server's own process renders in children (`seedream-emulator serve` calls `use_processes`), as only it
installs the collector: a spawned child imports the main module of the process that starts it, and an application
that embeds `create_app` (a test suite, a script without an `if __name__ == "__main__":` guard) would see its own
top-level code run again in every child. Embedded, renders run in threads, as they did before children existed.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .render import GenerationSpec, picture

logger = logging.getLogger(__name__)

# Children run at this niceness: the event loop's process wins a core whenever it has work.
RENDER_NICENESS = 10
# How often a child checks that the server that started it is still there.
ORPHAN_CHECK_SECONDS = 1.0
# What a child runs first. Source, not a function of this module: unpickling one would import the whole emulator
# package (0.6 s of CPU) before the child had lowered its priority, in competition with the server it starts with.
# A child whose server was killed (SIGKILL, a crash) would wait on its task queue for ever, as that queue's pipe is
# open in the child too; once orphaned, its parent id changes, and it leaves.
CHILD_SETUP = """
import os, threading, time
from emulator.memory import return_large_blocks
return_large_blocks()  # a 4K render's 48 MB of pixels would otherwise stay in the child once freed
if hasattr(os, "nice"):
    os.nice({niceness})
def leave_with_the_server(server={server}):
    while os.getppid() == server:
        time.sleep({seconds})
    os._exit(0)
threading.Thread(target=leave_with_the_server, name="orphan-check", daemon=True).start()
"""


def _child_setup() -> str:
    # The server's id, not the child's parent id when it starts: the server may already be gone by then.
    return CHILD_SETUP.format(niceness=RENDER_NICENESS, server=os.getpid(), seconds=ORPHAN_CHECK_SECONDS)


def _ready() -> None:
    """Nothing: submitted once per child by `start`, so the children exist before the first render."""


EMBEDDED = "not a server's own process (seedream-emulator serve renders in child processes)"


class Renderers:
    def __init__(self, workers: int | None = None, *, processes: bool = True) -> None:
        self.workers = workers or os.cpu_count() or 2
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.in_progress = 0  # renders asked for and not finished, by every event loop of the process
        self.in_threads_because: str | None = None if processes else EMBEDDED

    def use_processes(self) -> None:
        self.in_threads_because = None

    def start(self) -> None:
        if self.in_threads_because is not None:
            return
        try:
            pool = self._executor()
            for _ in range(self.workers):
                pool.submit(_ready)
        except RuntimeError as exc:
            self._fall_back(exc)

    async def picture(self, spec: GenerationSpec) -> bytes:
        """`render.picture(spec)`, in a child; a pool broken by a child that died is replaced once; in a thread when
        this process cannot start children."""
        self.in_progress += 1
        try:
            if self.in_threads_because is None:
                try:
                    made = await self._in_child(spec)
                except BrokenProcessPool:  # a child died, during this render or since the last one
                    made = await self._in_child(spec)
                if made is not None:
                    return made
            return await asyncio.to_thread(picture, spec)
        finally:
            self.in_progress -= 1

    async def _in_child(self, spec: GenerationSpec) -> bytes | None:
        """The picture from a child of the current pool (a broken pool is let go); None if children cannot start."""
        pool = self._executor()
        try:
            try:
                rendering = asyncio.get_running_loop().run_in_executor(pool, picture, spec)
            except BrokenProcessPool:
                raise
            except RuntimeError as exc:  # refused before anything was submitted
                self._fall_back(exc)
                return None
            return await rendering
        except BrokenProcessPool:
            self._discard(pool)
            raise

    def _fall_back(self, exc: RuntimeError) -> None:
        # multiprocessing refuses to start a child in some processes (one still importing its main module, one
        # shutting down): the images come all the same, rendered in threads.
        self.in_threads_because = str(exc).strip().splitlines()[0]
        logger.warning("rendering in threads, not child processes: %s", self.in_threads_because)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=_context(),
                    initializer=exec,
                    initargs=(_child_setup(), {}),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)


def _context() -> multiprocessing.context.BaseContext:
    # Spawned children, the server their parent, so that the orphan check sees it go. Not fork: the server has threads
    # (a fork copies their locks in whatever state). Not a fork server: its children hold the pipe it watches for the
    # server's end, so it never sees it, and would stay their parent for ever.
    return multiprocessing.get_context("spawn")


RENDERERS = Renderers(processes=False)
