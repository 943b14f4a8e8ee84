"""Runs checks against one client and emits the run as a stream of events."""

from __future__ import annotations

import contextlib
import ssl
import tempfile
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from .adapters import ADAPTERS, Adapter, AdapterSpec, AdapterUnavailable, load_adapter
from .checks import CHECKS, JUDGES
from .events import CaseFinished, CaseResult, CheckFinished, CheckStarted, Event, RunFinished, RunStarted
from .handle import EmulatorHandle, InProcess, Remote
from .profiles import Profile, load_profile
from .session import Session

DEFAULT_CHECKS = tuple(CHECKS)
DEFAULT_EXAMPLES = 4


@dataclass(frozen=True)
class RunConfig:
    provider: str
    adapter: AdapterSpec
    checks: Sequence[str] = DEFAULT_CHECKS
    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    emulator_url: str | None = None
    timing: str = "fast"
    only: Sequence[str] = ()

    def __post_init__(self) -> None:
        unknown = [check for check in self.checks if check not in CHECKS]
        if unknown:
            raise ValueError(f"unknown checks: {', '.join(unknown)}; choose from {', '.join(CHECKS)}")


async def run(config: RunConfig, emulator: EmulatorHandle | None = None) -> AsyncGenerator[Event]:
    """The run as events: RunStarted, then per check CheckStarted / CaseFinished... / CheckFinished, then RunFinished.

    `emulator` lends the run an emulator (started with the config's timing and seed) that outlives it, as the
    mutation suite does for its many short runs; otherwise the run starts its own, or drives `emulator_url`."""
    started = time.monotonic()
    profile = load_profile(config.provider)
    info = ADAPTERS.get(config.adapter.name)
    https_only = info is not None and info.https_only
    cleanup = contextlib.ExitStack()
    if emulator is None:
        if config.emulator_url:
            emulator = Remote(config.emulator_url)
        else:
            # An https-only client gets the emulator over TLS, with a CA made for this run alone.
            tls = {"tls_dir": Path(cleanup.enter_context(tempfile.TemporaryDirectory()))} if https_only else {}
            emulator = InProcess.start(timing=config.timing, seed=config.seed, **tls)
        cleanup.callback(emulator.close)
    with cleanup:
        if https_only and not emulator.base.startswith("https://"):
            raise AdapterUnavailable(
                f"{config.adapter.name} speaks only https: serve {emulator.base} with --tls (and trust its CA)"
            )
        adapter = await load_adapter(replace(config.adapter, ca_file=emulator.ca_file), config.provider)
        # Closed here, not left to the event loop's finalizer: its rules must be restored before the emulator goes.
        async with contextlib.aclosing(_checks(config, profile, adapter, emulator, started)) as events:
            async for event in events:
                yield event


async def _checks(
    config: RunConfig, profile: Profile, adapter: Adapter, emulator: EmulatorHandle, started: float
) -> AsyncGenerator[Event]:
    session = Session(profile, adapter, emulator, config.seed, config.examples, config.only)
    if emulator.ca_file is not None:
        await session.http.aclose()
        session.http = httpx.AsyncClient(timeout=60, verify=ssl.create_default_context(cafile=emulator.ca_file))
    session.production_rules()
    checks = tuple(CHECKS[check] for check in config.checks)
    results: list[CaseResult] = []
    try:
        yield RunStarted(config.provider, config.adapter.name, config.seed, checks, emulator.base)
        for check in checks:
            yield CheckStarted(check)
            counts = {"passed": 0, "failed": 0, "skipped": 0}
            async for result in JUDGES[check.id](session):
                counts[result.status] += 1
                results.append(result)
                yield CaseFinished(result)
            yield CheckFinished(check, counts["passed"], counts["failed"], counts["skipped"])
        passed = bool(results) and all(result.status != "failed" for result in results)
        yield RunFinished(passed, round(time.monotonic() - started, 2), tuple(results))
    finally:
        session.restore_rules()
        await session.aclose()
