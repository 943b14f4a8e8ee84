"""Each deliberately broken client is caught by the check meant for its defect; the unbroken one passes."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from conformance.adapters import AdapterSpec
from conformance.events import CaseResult, RunFinished
from conformance.runner import RunConfig, run

NAIVE = Path(__file__).with_name("naive_client.py")


async def results(provider: str, flags: str, only: list[str]) -> dict[str, CaseResult]:
    adapter = AdapterSpec.parse(f"subprocess:{shlex.join([sys.executable, str(NAIVE)])} {flags}")
    async for event in run(RunConfig(provider, adapter, examples=0, only=only)):
        if isinstance(event, RunFinished):
            return {f"{result.check}/{result.case}": result for result in event.results}
    raise AssertionError("the run did not finish")


DEFECTS = [
    ("runware", "--long-prompt", "wire/valid-004", "/positivePrompt"),  # /positivePrompt maxLength 2000 (inside)
    ("runware", "--ignore-retry-after", "resilience/rate_limit", "after a 429 that said Retry-After: 1"),
    ("runware", "--stop-polling-early", "results/valid-009", "expected 20 image(s), got"),  # numberResults 20
    ("runware", "--drop-last", "results/valid-001", "expected 1 image(s), got 0"),
    ("runware", "--ignore-timeout", "resilience/stalled_job", "the client hangs"),
    ("wiro", "--bad-signature", "wire/valid-001", "the provider refused the credentials (HTTP 401)"),
    ("replicate", "--accept-any-webhook", "lifecycle/forged_webhook", "altered after signing was accepted"),
]


@pytest.mark.parametrize(("provider", "flag", "case", "reason"), DEFECTS, ids=[defect[1] for defect in DEFECTS])
async def test_the_defect_is_caught_by_its_check(provider: str, flag: str, case: str, reason: str) -> None:
    found = await results(provider, flag, [case])
    assert list(found) == [case]
    assert found[case].status == "failed" and reason in found[case].message, found[case].message


@pytest.mark.parametrize("provider", ["runware", "wiro", "replicate"])
async def test_the_unbroken_client_passes_the_same_cases(provider: str) -> None:
    cases = [case for where, _, case, _ in DEFECTS if where == provider]
    cases += ["lifecycle/webhooks"] if provider == "replicate" else []
    found = await results(provider, "--webhooks", cases)
    assert sorted(found) == sorted(cases)
    assert {case: result.message for case, result in found.items() if result.status != "passed"} == {}
