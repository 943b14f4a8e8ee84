"""`python bench/recorder.py PAUSES.json <seedream-emulator arguments>`: the emulator's own command line, with every
garbage collection of the process recorded (when it started on the monotonic clock, its generation, how long it
held the interpreter, how much of that was its own CPU time rather than the machine running something else, and
how many objects it freed);
written to PAUSES.json when the server stops. A script, not a module of `bench`, so it runs
whichever `emulator` package comes first on PYTHONPATH (the working tree, or an older tree to compare with)."""

from __future__ import annotations

import gc
import json
import signal
import sys
import time
from typing import Any


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    pauses: list[tuple[float, int, float, float, int]] = []
    started = [0.0, 0.0]

    def record(phase: str, info: dict[str, Any]) -> None:
        now, cpu = time.monotonic(), time.thread_time()
        if phase == "start":
            started[:] = now, cpu
        else:
            pauses.append((started[0], info["generation"], now - started[0], cpu - started[1], info["collected"]))

    def write() -> None:
        if record in gc.callbacks:
            gc.callbacks.remove(record)
            with open(out, "w") as handle:
                json.dump({"pauses": pauses, "threshold": gc.get_threshold()}, handle)

    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again with the handler it found installed.
    def stop(*_: object) -> None:
        write()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    gc.callbacks.append(record)
    from emulator.cli import main as serve

    try:
        return serve(argv)
    finally:
        write()


if __name__ == "__main__":
    sys.exit(main())
