"""`seedream-conformance`: drive a client library against the emulator and give a verdict."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import drift_command
from .adapter_check import check_adapter
from .adapters import ADAPTERS, AdapterSpec, AdapterUnavailable
from .checks import CHECKS
from .events import CaseResult, RunFinished
from .matrix import MATRIX_ADAPTERS, write_matrix
from .mutants import MUTANTS, Outcome, applicable, mutate, write_section
from .mutants import render as render_mutants
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
    one.add_argument("--provider", required=True, type=_choice("provider", PROVIDERS))
    one.add_argument("--adapter", default="reference", help="an adapter name (see `adapters`) or subprocess:COMMAND")
    _common(one)
    one.add_argument(
        "--emulator",
        metavar="URL",
        help="use a running emulator instead of starting one (traffic-based checks then judge less); "
        "if it was started with --control-token, set SEEDREAM_EMULATOR_CONTROL_TOKEN",
    )
    one.add_argument("--junit", metavar="PATH", help="also write JUnit XML here")
    one.add_argument("--html", metavar="PATH", help="also write a self-contained HTML report here")
    one.add_argument("-v", "--verbose", action="store_true", help="one line per case instead of one character")

    matrix = commands.add_parser("matrix", help="run every built-in adapter and write the results as Markdown")
    _common(matrix)
    matrix.add_argument("--out", metavar="PATH", default="docs/conformance.md")
    matrix.add_argument(
        "--adapters",
        metavar="ADAPTER",
        nargs="+",
        type=_choice("adapter", sorted(MATRIX_ADAPTERS)),
        help="limit to these adapters",
    )

    mutate = commands.add_parser(
        "mutate", help="run broken variants of the reference client: each must fail the check that owns its defect"
    )
    mutate.add_argument("--provider", required=True, type=_choice("provider", ("all", *PROVIDERS)))
    mutate.add_argument(
        "--mutants",
        metavar="ID,ID",
        type=_subset("mutant", [mutant.id for mutant in MUTANTS]),
        default=(),
        help="comma-separated subset of the mutants (default: every one that applies)",
    )
    mutate.add_argument("--seed", type=int, default=0, help="seeds the emulator; same seed, same run")
    mutate.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip running the unbroken client first (when a reference run has just shown it passes)",
    )
    mutate.add_argument("--doc", metavar="PATH", help="also write the mutation table with these results into this page")

    drift_command.add_parser(commands)
    commands.add_parser("adapters", help="list the built-in adapters")
    check = commands.add_parser(
        "adapter-check",
        help="check that a JSON-lines adapter speaks the protocol (contracts/adapter/protocol.json) before a run",
    )
    check.add_argument(
        "--provider",
        default="evolink",
        type=_choice("provider", PROVIDERS),
        help="whose requests to send it (default evolink)",
    )
    check.add_argument(
        "adapter_command",
        nargs="+",
        metavar="COMMAND",
        help="the adapter's command line: one quoted string, or its words after --",
    )
    commands.add_parser("checks", help="list the checks with their rationale")
    return root


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--checks",
        type=_subset("check", list(CHECKS)),
        default=tuple(CHECKS),
        help=f"comma-separated subset of {','.join(CHECKS)}",
    )
    command.add_argument(
        "--examples", type=int, default=DEFAULT_EXAMPLES, help="random cases drawn per check beyond the boundary cases"
    )
    command.add_argument(
        "--seed", type=int, default=0, help="seeds the drawn cases and the emulator; same seed, same run"
    )
    command.add_argument(
        "--only",
        metavar="CHECK/CASE",
        action="append",
        default=[],
        help="run only matching cases, e.g. resilience/stalled_job or 'limits/*' (repeatable)",
    )


def _choice(what: str, allowed: Sequence[str]) -> Callable[[str], str]:
    """An argument type taking one of `allowed`; a usage error names the value given and the choices."""

    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}; choose from {', '.join(allowed)}")
        return text

    return parse


def _subset(what: str, allowed: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
    """An argument type taking a comma-separated subset of `allowed`."""

    def parse(text: str) -> tuple[str, ...]:
        chosen = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [part for part in chosen if part not in allowed]
        if unknown:
            named = ", ".join(repr(part) for part in unknown)
            plural = "s" if len(unknown) > 1 else ""
            raise argparse.ArgumentTypeError(f"unknown {what}{plural} {named}; choose from {', '.join(allowed)}")
        if not chosen:
            raise argparse.ArgumentTypeError(f"no {what} given in {text!r}; choose from {', '.join(allowed)}")
        return chosen

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "drift":
        return drift_command.main(args)
    if args.command == "adapter-check":
        return asyncio.run(_adapter_check(args.adapter_command, args.provider))
    if args.command == "adapters":
        for name, info in ADAPTERS.items():
            print(f"{name:<18} {', '.join(info.providers):<32} {info.description}")
        return EXIT_CONFORMANT
    if args.command == "checks":
        for check in CHECKS.values():
            print(f"{check.id}: {check.title}\n  {check.rationale}\n  fact: {check.fact}\n")
        return EXIT_CONFORMANT
    if args.command == "mutate":
        providers = PROVIDERS if args.provider == "all" else (args.provider,)
        return asyncio.run(_mutate(providers, args.mutants, args.seed, args.doc, args.baseline))
    try:
        spec = AdapterSpec.parse(getattr(args, "adapter", "reference"))
        config = RunConfig(
            getattr(args, "provider", "runware"),
            spec,
            args.checks,
            args.examples,
            args.seed,
            getattr(args, "emulator", None),
            only=args.only,
        )
    except ValueError as error:
        return _usage(error)
    if args.command == "matrix":
        failing = asyncio.run(
            write_matrix(
                Path(args.out), args.adapters or list(MATRIX_ADAPTERS), args.checks, args.examples, args.seed, args.only
            )
        )
        print(f"wrote {args.out}; {failing} run(s) not conformant")
        return EXIT_CONFORMANT
    reporters: list[Reporter] = [ConsoleReporter(verbose=args.verbose)]
    reporters += [JUnitReporter(args.junit)] if args.junit else []
    reporters += [HtmlReporter(args.html)] if args.html else []
    try:
        return asyncio.run(_run(config, reporters))
    except AdapterUnavailable as error:
        return _usage(error)


async def _adapter_check(words: Sequence[str], provider: str) -> int:
    command = shlex.split(words[0]) if len(words) == 1 else list(words)
    print(f"adapter-check: {shlex.join(command)} against {provider}", flush=True)
    report = await check_adapter(command, provider)
    if report.errors:
        print(f"{report.errors} error(s): the adapter does not speak the protocol (contracts/adapter/protocol.json)")
        return EXIT_NOT_CONFORMANT
    print(f"the adapter speaks the protocol ({report.warnings} warning(s))")
    return EXIT_CONFORMANT


def _usage(error: Exception) -> int:
    print(f"seedream-conformance: {error}", file=sys.stderr)
    return EXIT_USAGE


async def _mutate(
    providers: Sequence[str], chosen: Sequence[str], seed: int, doc: str | None, baseline: bool = True
) -> int:
    runs = []
    for provider in providers:
        mutants = applicable(provider, chosen)
        print(f"{provider}: {len(mutants)} mutant(s), seed {seed}", flush=True)
        result = await mutate(
            provider, chosen, seed=seed, baseline=baseline, report=_print_outcome, report_baseline=_print_baseline
        )
        print(f"mutation score {result.score()}\n", flush=True)
        runs.append(result)
    if doc is not None:
        write_section(Path(doc), render_mutants(runs, seed))
        print(f"wrote the mutation table into {doc}")
    return EXIT_CONFORMANT if runs and all(result.passed for result in runs) else EXIT_NOT_CONFORMANT


def _print_baseline(failures: list[CaseResult]) -> None:
    print(f"  the unbroken client fails {len(failures)} owning case(s); they kill no mutant:")
    for case in failures:
        print(f"    {case.check}/{case.case}: {' '.join(case.message.split())}", flush=True)


def _print_outcome(outcome: Outcome) -> None:
    verdict = "KILLED  " if outcome.killed else "SURVIVED"
    print(f"  {verdict} {outcome.mutant.id:<26} {outcome.describe()} ({outcome.duration:.1f} s)", flush=True)


async def _run(config: RunConfig, reporters: list[Reporter]) -> int:
    passed = False
    async for event in run(config):
        for reporter in reporters:
            reporter.handle(event)
        if isinstance(event, RunFinished):
            passed = event.passed
    return EXIT_CONFORMANT if passed else EXIT_NOT_CONFORMANT
