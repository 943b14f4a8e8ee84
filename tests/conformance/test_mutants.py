"""The mutation suite: every broken variant of a reference client is killed by the check that owns its defect."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import clients.replicate
import clients.wiro
from clients._base import Provider
from clients._polling import Deadline, PollSchedule
from clients._retry import RetryPolicy
from conformance import mutants
from conformance.checks import CHECKS
from conformance.cli import EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, main
from conformance.mutants import CLASSES, MUTANTS, Mutant, applicable, render, section_of, write_section
from conformance.profiles import PROVIDERS, load_profile

BY_ID = {mutant.id: mutant for mutant in MUTANTS}
VERDICT = re.compile(r"^  (KILLED|SURVIVED) +(\S+) +(.*)$", re.MULTILINE)

# The defects issue 20 names; each must be planted on every provider it applies to.
NAMED = {
    "duplicate-create": set(PROVIDERS),
    "drop-seed": {"runware", "ark"},
    "accept-unsigned-webhook": {"replicate"},
    "ignore-retry-after": set(PROVIDERS),
    "tight-polling": set(mutants.POLLED),
    "poll-after-terminal": set(mutants.POLLED),
    "ignore-timeout": set(PROVIDERS),
    "drop-size": set(PROVIDERS),
    "first-image-only": set(PROVIDERS),
    "crash-on-failed-job": set(PROVIDERS),
    "crash-on-error-reply": set(PROVIDERS),
    "key-in-url": set(PROVIDERS),
    "key-in-webhook-url": {"replicate"},
    "wiro-strings-as-numbers": {"wiro"},
    # every other value the caller gives that the placeholder records
    "drop-quality": {"runware"},
    "drop-references": set(PROVIDERS),
    # and what tests/conformance/naive_client.py plants: an altered prompt, a wrong Wiro signature
    "embellish-prompt": set(PROVIDERS),
    "wiro-wrong-signature": {"wiro"},
}


def waiting_for_the_profile(provider: str) -> set[str]:
    """Mutants only a profile's own material can kill, while that profile does not supply it yet."""
    profile = load_profile(provider)
    cases = profile.valid_cases(0, 0)
    waiting = set()
    if provider in ("runware", "ark") and not any(case.expect and case.expect.seed is not None for case in cases):
        waiting.add("drop-seed")  # Expectation.seed on the cases that give one
    if provider == "replicate" and not callable(getattr(profile, "webhook_signing", None)):
        waiting |= {"accept-stale-webhook", "refuse-reordered-webhook"}  # profiles.base.webhook_signing
    if not any(case.expect and case.expect.count > 1 for case in cases):
        waiting.add("first-image-only")  # a case that makes more than one image
    return waiting


def test_the_table_plants_every_defect_the_issue_names() -> None:
    assert {name: set(BY_ID[name].providers) for name in NAMED} == NAMED
    assert len(BY_ID) == len(MUTANTS)
    for mutant in MUTANTS:
        assert mutant.check in CHECKS and set(mutant.providers) <= set(PROVIDERS) and mutant.cases, mutant.id
        assert mutant.only == tuple(f"{mutant.check}/{case}" for case in mutant.cases)


def test_every_patch_is_undone() -> None:
    owners: list[Any] = [
        *CLASSES.values(),
        Provider,
        RetryPolicy,
        PollSchedule,
        Deadline,
        clients.replicate,
        clients.wiro,
    ]
    before = [dict(vars(owner)) for owner in owners]
    for mutant in MUTANTS:
        for provider in mutant.providers:
            with mutant.patch(provider):
                assert [dict(vars(owner)) for owner in owners] != before, (mutant.id, provider)
            assert [dict(vars(owner)) for owner in owners] == before, (mutant.id, provider)


@pytest.fixture(scope="module")
def suite() -> dict[str, tuple[int, str]]:
    """`mutate --provider P` for the four providers at once, one process each (patches are process-wide).

    Measured on the 2-core development machine: 45 s for all 53 mutants (each provider alone 30-45 s, most of it
    waiting: held jobs, timeouts, Retry-After). The baseline is skipped: test_reference has just shown the unbroken
    clients pass a superset of the owning cases."""
    command = [sys.executable, "-m", "conformance", "mutate", "--no-baseline", "--provider"]
    running = {
        provider: subprocess.Popen([*command, provider], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for provider in PROVIDERS
    }
    done = {}
    for provider, process in running.items():
        out, err = process.communicate(timeout=600)
        done[provider] = (process.returncode, out + err)
    return done


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_mutant_is_killed_by_the_check_that_owns_its_defect(
    suite: dict[str, tuple[int, str]], provider: str
) -> None:
    code, output = suite[provider]
    verdicts = {name: (verdict, rest) for verdict, name, rest in VERDICT.findall(output)}
    assert set(verdicts) == {mutant.id for mutant in applicable(provider)}, output
    survivors = {name for name, (verdict, _) in verdicts.items() if verdict == "SURVIVED"}
    assert survivors == waiting_for_the_profile(provider), output
    for name, (verdict, where) in verdicts.items():
        if verdict == "KILLED":
            assert where.startswith(f"{BY_ID[name].check}/"), (name, where)
    assert code == (EXIT_NOT_CONFORMANT if survivors else EXIT_CONFORMANT)
    assert f"mutation score {provider}: {len(verdicts) - len(survivors)}/{len(verdicts)} mutants killed" in output


def test_a_killed_mutant_passes_and_the_table_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "conformance.md"
    page.write_text("# Conformance matrix\n\nkept\n")
    argv = ["mutate", "--provider", "evolink", "--mutants", "ignore-retry-after", "--doc", str(page)]
    assert main(argv) == EXIT_CONFORMANT
    shown = capsys.readouterr().out
    assert "KILLED   ignore-retry-after" in shown and "resilience/rate_limit: retried" in shown
    assert "mutation score evolink: 1/1 mutants killed (100 %)" in shown
    written = page.read_text()
    assert written.startswith("# Conformance matrix\n\nkept\n")
    row = next(line for line in written.splitlines() if line.startswith("| `ignore-retry-after`"))
    cells = ["✅ `resilience/rate_limit`" if provider == "evolink" else "applies" for provider in PROVIDERS]
    assert row.endswith("| " + " | ".join(cells) + " |")


def test_a_survivor_fails_the_suite(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    harmless = Mutant(
        "harmless", "changes nothing", ("evolink",), "resilience", ("rate_limit",), "no patch",
        lambda provider: contextlib.nullcontext(),
    )  # fmt: skip
    monkeypatch.setattr(mutants, "MUTANTS", (harmless,))
    assert main(["mutate", "--provider", "evolink"]) == EXIT_NOT_CONFORMANT
    shown = capsys.readouterr().out
    assert "SURVIVED harmless" in shown and "every owning case passed" in shown
    assert "mutation score evolink: 0/1 mutants killed (0 %)" in shown


def test_a_case_the_unbroken_client_fails_kills_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Break the unbroken client the same way as the mutant: the baseline fails rate_limit, so it cannot kill.
    original = RetryPolicy.delay
    monkeypatch.setattr(RetryPolicy, "delay", lambda self, retry, hint, rng: original(self, retry, None, rng))
    assert main(["mutate", "--provider", "wiro", "--mutants", "ignore-retry-after"]) == EXIT_NOT_CONFORMANT
    shown = capsys.readouterr().out
    assert "the unbroken client fails 1 owning case(s); they kill no mutant:" in shown
    assert "resilience/rate_limit: retried" in shown and "SURVIVED ignore-retry-after" in shown


def test_the_section_replaces_itself_in_a_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    write_section(page, render())
    first = page.read_text()
    assert section_of(first) == render() and first.count("## Mutation suite") == 1
    page.write_text("before\n\n" + first + "\nafter\n")
    write_section(page, render().replace("applies", "seen"))
    again = page.read_text()
    assert again.startswith("before\n\n") and again.endswith("\nafter\n") and again.count("## Mutation suite") == 1
    assert "| seen |" in again


def test_the_table_shows_which_mutant_applies_where() -> None:
    table = render()
    row = next(line for line in table.splitlines() if line.startswith("| `wiro-strings-as-numbers`"))
    assert row.endswith("| " + " | ".join("applies" if provider == "wiro" else "—" for provider in PROVIDERS) + " |")
    assert "| mutant | defect | owning check: cases | how it is applied | " + " | ".join(PROVIDERS) + " |" in table


def test_owning_cases_run_one_at_a_time_so_a_kill_stops_the_run() -> None:
    # wire and results run every case they are given before judging any; one per run stops at the first kill.
    valid = [f"results/{case.id}" for case in load_profile("wiro").valid_cases(0, 0)]
    assert mutants._steps(BY_ID["drop-size"], "wiro", 0) == valid
    assert mutants._steps(BY_ID["duplicate-create"], "wiro", 0) == [
        "resilience/ambiguous_create",
        "resilience/ambiguous_drop",
    ]
