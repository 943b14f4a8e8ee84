"""`seedream-conformance`: drive a client library against the emulator and give a verdict."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from .adapters import ADAPTERS, AdapterSpec, AdapterUnavailable
from .checks import CHECKS
from .events import RunFinished
from .matrix import MATRIX_ADAPTERS, write_matrix
from .profiles import PROVIDERS
from .reports import ConsoleReporter, HtmlReporter, JUnitReporter, Reporter
from .runner import DEFAULT_EXAMPLES, RunConfig, run

EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_USAGE = 0, 1, 2


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="seedream-conformance",
        description="Drive a Seedream client library against the emulator and report whether it sends valid "
        "requests, reads every response shape, follows the lifecycle and survives faults.",
    )
    commands = root.add_subparsers(dest="command", required=True)

    one = commands.add_parser("run", help="run the checks against one client and give a verdict")
    one.add_argument("--provider", required=True, choices=PROVIDERS)
    one.add_argument("--adapter", default="reference", help="an adapter name (see `adapters`) or subprocess:COMMAND")
    _common(one)
    one.add_argument("--emulator", metavar="URL", help="use a running emulator instead of starting one (traffic-based checks then judge less)")
    one.add_argument("--junit", metavar="PATH", help="also write JUnit XML here")
    one.add_argument("--html", metavar="PATH", help="also write a self-contained HTML report here")
    one.add_argument("-v", "--verbose", action="store_true", help="one line per case instead of one character")

    matrix = commands.add_parser("matrix", help="run every built-in adapter and write the results as Markdown")
    _common(matrix)
    matrix.add_argument("--out", metavar="PATH", default="docs/conformance.md")
    matrix.add_argument("--adapters", metavar="ADAPTER", nargs="+", choices=sorted(MATRIX_ADAPTERS), help="limit to these adapters")

    commands.add_parser("adapters", help="list the built-in adapters")
    commands.add_parser("checks", help="list the checks with their rationale")
    return root


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument("--checks", type=_checks, default=tuple(CHECKS), help=f"comma-separated subset of {','.join(CHECKS)}")
    command.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, help="random cases drawn per check beyond the boundary cases")
    command.add_argument("--seed", type=int, default=0, help="seeds the drawn cases and the emulator; same seed, same run")
    command.add_argument("--only", metavar="CHECK/CASE", action="append", default=[], help="run only matching cases, e.g. resilience/stalled_job or 'limits/*' (repeatable)")


def _checks(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [check for check in chosen if check not in CHECKS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(CHECKS)}")
    return chosen


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "adapters":
        for name, info in ADAPTERS.items():
            print(f"{name:<18} {', '.join(info.providers):<32} {info.description}")
        return EXIT_CONFORMANT
    if args.command == "checks":
        for check in CHECKS.values():
            print(f"{check.id}: {check.title}\n  {check.rationale}\n  fact: {check.fact}\n")
        return EXIT_CONFORMANT
    try:
        spec = AdapterSpec.parse(getattr(args, "adapter", "reference"))
        config = RunConfig(
            getattr(args, "provider", "runware"), spec, args.checks, args.examples, args.seed, getattr(args, "emulator", None), only=args.only
        )
    except ValueError as error:
        return _usage(error)
    if args.command == "matrix":
        failing = asyncio.run(write_matrix(Path(args.out), args.adapters or list(MATRIX_ADAPTERS), args.checks, args.examples, args.seed, args.only))
        print(f"wrote {args.out}; {failing} run(s) not conformant")
        return EXIT_CONFORMANT
    reporters: list[Reporter] = [ConsoleReporter(verbose=args.verbose)]
    reporters += [JUnitReporter(args.junit)] if args.junit else []
    reporters += [HtmlReporter(args.html)] if args.html else []
    try:
        return asyncio.run(_run(config, reporters))
    except AdapterUnavailable as error:
        return _usage(error)


def _usage(error: Exception) -> int:
    print(f"seedream-conformance: {error}", file=sys.stderr)
    return EXIT_USAGE


async def _run(config: RunConfig, reporters: list[Reporter]) -> int:
    passed = False
    async for event in run(config):
        for reporter in reporters:
            reporter.handle(event)
        if isinstance(event, RunFinished):
            passed = event.passed
    return EXIT_CONFORMANT if passed else EXIT_NOT_CONFORMANT
