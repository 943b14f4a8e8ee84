"""`seedream-conformance drift CASSETTE [--junit PATH] [--html PATH] [--json PATH]`: exit 1 on drift."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emulator.core.timing import PROFILES
from emulator.recording.cassette import CassetteError

from .drift import as_json, events, run_drift, table
from .reports import HtmlReporter, JUnitReporter, Reporter

EXIT_NO_DRIFT, EXIT_DRIFT, EXIT_USAGE = 0, 1, 2


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    drift = commands.add_parser(
        "drift",
        help="send a recorded cassette to the emulator and report where its replies differ from the real ones",
        description="Send every request of CASSETTE (written by `seedream-emulator record`) to an in-process "
        "emulator and compare each reply with the recorded one: status, headers that matter, JSON shape, "
        "enumeration values, lifecycle states. Exit 1 on drift (docs/drift.md).",
    )
    drift.add_argument("cassette", metavar="CASSETTE")
    drift.add_argument(
        "--timing",
        choices=tuple(PROFILES),
        default="realistic",
        help="the emulator's timing profile (default realistic: closest to the real providers' pace)",
    )
    drift.add_argument("--seed", type=int, default=0, help="seeds the emulator")
    drift.add_argument("--junit", metavar="PATH", help="also write JUnit XML here")
    drift.add_argument("--html", metavar="PATH", help="also write a self-contained HTML report here")
    drift.add_argument("--json", metavar="PATH", help="also write the findings as JSON here")


def main(args: argparse.Namespace) -> int:
    try:
        report = run_drift(args.cassette, timing=args.timing, seed=args.seed)
    except CassetteError as exc:
        print(f"seedream-conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(table(report), flush=True)
    if not any(outcome.seq for outcome in report.outcomes):
        print(f"seedream-conformance: nothing in {args.cassette} could be compared", file=sys.stderr)
        return EXIT_USAGE
    reporters: list[Reporter] = [JUnitReporter(args.junit)] if args.junit else []
    reporters += [HtmlReporter(args.html)] if args.html else []
    for event in events(report):
        for reporter in reporters:
            reporter.handle(event)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(as_json(report) + "\n", encoding="utf-8")
    return EXIT_DRIFT if report.drifted else EXIT_NO_DRIFT
