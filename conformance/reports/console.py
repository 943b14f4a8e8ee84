"""Live progress while a run goes, then a summary table and every failure with its reason."""

from __future__ import annotations

import sys
from typing import TextIO

from ..events import CaseFinished, CaseResult, CheckFinished, CheckStarted, Event, RunFinished, RunStarted

MARKS = {"passed": ".", "failed": "F", "skipped": "s"}


class ConsoleReporter:
    def __init__(self, stream: TextIO | None = None, verbose: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.verbose = verbose
        self.rows: list[tuple[str, int, int, int]] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._write(
                f"seedream-conformance: {event.adapter} against {event.provider} (seed {event.seed}, emulator {event.emulator})\n"
            )
        elif isinstance(event, CheckStarted):
            self._write(f"{event.check.id:<11} ")
        elif isinstance(event, CaseFinished):
            self._case(event.result)
        elif isinstance(event, CheckFinished):
            self.rows.append((event.check.id, event.passed, event.failed, event.skipped))
            counts = f"{event.passed} passed, {event.failed} failed, {event.skipped} skipped"
            self._write(f"\n  {counts}\n" if self.verbose else f" {counts}\n")
        elif isinstance(event, RunFinished):
            self._summary(event)

    def _case(self, result: CaseResult) -> None:
        if self.verbose:
            reason = f": {result.message}" if result.message else ""
            self._write(f"\n  {result.status.upper():<7} {result.case} {result.title}{reason}")
        else:
            self._write(MARKS[result.status])

    def _summary(self, event: RunFinished) -> None:
        self._write("\n" + _table(self.rows) + "\n")
        failures = [result for result in event.results if result.status == "failed"]
        for result in failures:
            self._write(f"\nFAILED {result.check}/{result.case} ({result.title})\n  {result.message}\n")
        if not event.results:
            verdict = "NO VERDICT: no case ran (check --only)"
        else:
            verdict = "CONFORMANT" if event.passed else f"NOT CONFORMANT: {len(failures)} failing case(s)"
        self._write(f"\n{verdict} in {event.duration:.1f} s\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def _table(rows: list[tuple[str, int, int, int]]) -> str:
    lines = [f"{'check':<11} {'passed':>6} {'failed':>6} {'skipped':>7}", "-" * 33]
    lines += [f"{check:<11} {passed:>6} {failed:>6} {skipped:>7}" for check, passed, failed, skipped in rows]
    return "\n".join(lines)
