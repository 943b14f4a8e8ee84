"""The runner's event stream and how the engine judges adapters that crash or never answer."""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import adapters as registry
from conformance import session as session_module
from conformance.adapters import AdapterInfo, AdapterSpec, GenerateRequest, GenerateResult
from conformance.events import CaseFinished, CaseResult, CheckFinished, CheckStarted, Event, RunFinished, RunStarted
from conformance.runner import RunConfig, run


class Scripted:
    """An in-process adapter whose generate() does whatever the test says."""

    name = "scripted"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, provider: str, behaviour: str) -> None:
        self.provider = provider
        self.behaviour = behaviour

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        if self.behaviour == "crash":
            raise KeyError("imageURL")
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    async def factory(spec: AdapterSpec, provider: str) -> Scripted:
        return Scripted(provider, spec.command[0])

    monkeypatch.setitem(registry.ADAPTERS, "scripted", AdapterInfo(("runware",), "test double", factory))
    yield


async def events(
    behaviour: str, only: list[str], checks: tuple[str, ...] = ("wire", "results", "resilience")
) -> list[Event]:
    config = RunConfig("runware", AdapterSpec("scripted", (behaviour,)), checks=checks, examples=0, only=only)
    return [event async for event in run(config)]


async def results(behaviour: str, only: list[str]) -> tuple[CaseResult, ...]:
    """The case results the run's last event, its RunFinished, reports."""
    finished = (await events(behaviour, only))[-1]
    assert isinstance(finished, RunFinished)
    return finished.results


async def test_events_come_in_order_and_only_selected_cases_run(scripted: None) -> None:
    stream = await events("crash", ["results/valid-00[12]"], checks=("wire", "results"))
    kinds = [type(event) for event in stream]
    assert kinds == [
        RunStarted,
        CheckStarted,
        CheckFinished,
        CheckStarted,
        CaseFinished,
        CaseFinished,
        CheckFinished,
        RunFinished,
    ]
    finished = stream[-1]
    assert isinstance(finished, RunFinished) and not finished.passed
    assert [result.case for result in finished.results] == ["valid-001", "valid-002"]


async def test_an_unrelated_exception_is_a_crash(scripted: None) -> None:
    [result] = await results("crash", ["results/valid-001"])
    assert result.status == "failed"
    assert result.message == "the client failed: crash: KeyError: 'imageURL'"


async def test_a_client_that_never_answers_is_a_hang(scripted: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "GRACE", 0.5)
    [result] = await results("hang", ["resilience/stalled_job"])
    assert result.status == "failed" and "the client hangs" in result.message
    assert 3.4 <= result.duration < 6


def test_unknown_checks_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown checks: speed"):
        RunConfig("runware", AdapterSpec("reference"), checks=("wire", "speed"))


async def test_the_same_seed_gives_the_same_run() -> None:
    naive = Path(__file__).with_name("naive_client.py")
    adapter = AdapterSpec.parse(f"subprocess:{shlex.join([sys.executable, str(naive)])}")

    async def outcome(seed: int) -> list[tuple[object, ...]]:
        config = RunConfig(
            "runware",
            adapter,
            checks=("results", "limits"),
            examples=2,
            seed=seed,
            only=["results/valid-01[12]", "limits/invalid-01[12]"],
        )
        async for event in run(config):
            if isinstance(event, RunFinished):
                return [
                    (r.case, r.title, r.status, r.details.get("body"), [image.metadata for image in r.images])
                    for r in event.results
                ]
        raise AssertionError("the run did not finish")

    first = await outcome(5)
    assert len(first) == 4 and all(status == "passed" for _, _, status, _, _ in first)
    assert await outcome(5) == first
    assert await outcome(6) != first


async def test_a_lent_emulator_serves_several_runs_and_outlives_them(scripted: None) -> None:
    from conformance.handle import InProcess

    emulator = InProcess.start(timing="fast", seed=0)
    try:
        for _ in range(2):
            config = RunConfig(
                "runware",
                AdapterSpec("scripted", ("crash",)),
                checks=("results",),
                examples=0,
                only=["results/valid-001"],
            )
            stream = [event async for event in run(config, emulator)]
            assert isinstance(stream[0], RunStarted) and stream[0].emulator == emulator.base
        assert emulator.jobs() == []  # still answering
    finally:
        emulator.close()
