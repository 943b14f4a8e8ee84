"""`seedream-conformance` as a CI job runs it: exit codes, reports on disk, a remote emulator."""

from __future__ import annotations

import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from conformance.cli import EXIT_CONFORMANT, EXIT_NOT_CONFORMANT, EXIT_USAGE, main
from conformance.handle import InProcess

NAIVE = Path(__file__).with_name("naive_client.py")


def naive(*flags: str) -> str:
    return "subprocess:" + shlex.join([sys.executable, str(NAIVE), *flags])


def test_the_installed_command_shows_its_sub_commands() -> None:
    shown = subprocess.run(
        [str(Path(sys.executable).with_name("seedream-conformance")), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert all(command in shown for command in ("run", "matrix", "mutate", "adapters", "checks"))


def test_lists_adapters_and_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapters"]) == EXIT_CONFORMANT
    listed = capsys.readouterr().out
    assert {"reference", "replicate", "runware-sdk-rest", "runware-sdk-ws", "runware-legacy", "subprocess"} <= {
        line.split()[0] for line in listed.splitlines()
    }
    assert main(["checks"]) == EXIT_CONFORMANT
    assert [
        line.split(":")[0] for line in capsys.readouterr().out.splitlines() if line and not line.startswith(" ")
    ] == ["wire", "results", "lifecycle", "resilience", "limits"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--provider", "runware", "--adapter", "nonesuch"], "unknown adapter 'nonesuch'"),
        (["run", "--provider", "wiro", "--adapter", "replicate"], "adapter replicate drives replicate, not wiro"),
        (["run", "--provider", "runware", "--adapter", "subprocess:"], "subprocess needs a command"),
        (
            ["run", "--provider", "runware", "--adapter", "subprocess:/nonexistent/client"],
            "cannot start adapter subprocess",
        ),
    ],
)
def test_usage_errors_exit_2_with_a_reason(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


CHECK_IDS = ["wire", "results", "lifecycle", "resilience", "limits"]


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["run", "--provider", "bogus"], ["runware", "wiro", "evolink", "replicate"]),
        (["run", "--provider", "runware", "--checks", "bogus"], CHECK_IDS),
        (["run", "--provider", "runware", "--checks", "wire,bogus"], CHECK_IDS),
        (["matrix", "--checks", "bogus"], CHECK_IDS),
        (
            ["matrix", "--adapters", "reference", "bogus"],
            ["reference", "replicate", "runware-sdk-rest", "runware-legacy"],
        ),
        (["mutate", "--provider", "bogus"], ["all", "runware", "wiro", "evolink", "replicate"]),
        (["mutate", "--provider", "all", "--mutants", "bogus"], ["duplicate-create", "drop-size", "key-in-url"]),
    ],
    ids=[
        "run-provider",
        "run-checks",
        "run-checks-list",
        "matrix-checks",
        "matrix-adapters",
        "mutate-provider",
        "mutate-mutants",
    ],
)
def test_a_bad_choice_is_named_with_the_allowed_ones(
    argv: list[str], allowed: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    error = capsys.readouterr().err
    assert exit.value.code == EXIT_USAGE
    assert "'bogus'" in error and "choose from" in error and all(choice in error for choice in allowed), error


def test_a_bad_adapter_is_named_with_the_allowed_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--provider", "runware", "--adapter", "bogus"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "'bogus'" in error and all(
        name in error for name in ("reference", "replicate", "runware-legacy", "subprocess")
    )


def test_several_unknown_checks_are_all_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["run", "--provider", "runware", "--checks", "wire,speed,taste"])
    error = capsys.readouterr().err
    assert exit.value.code == EXIT_USAGE and "unknown checks 'speed', 'taste'; choose from wire, results" in error


def test_a_failing_client_exits_1_and_writes_both_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "run",
        "--provider",
        "runware",
        "--adapter",
        naive("--drop-last"),
        "--examples",
        "0",
        "--only",
        "results/valid-001",
        "--only",
        "limits/invalid-00[12]",
        "--junit",
        str(tmp_path / "junit.xml"),
        "--html",
        str(tmp_path / "report.html"),
    ]
    assert main(argv) == EXIT_NOT_CONFORMANT
    assert "NOT CONFORMANT: 1 failing case(s)" in capsys.readouterr().out
    suites = {suite.get("name"): suite for suite in ET.parse(tmp_path / "junit.xml").getroot()}
    assert (suites["runware.results"].get("failures"), suites["runware.limits"].get("tests")) == ("1", "2")
    assert "expected 1 image(s), got 0" in (tmp_path / "report.html").read_text()


def test_a_conformant_client_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--provider", "wiro", "--adapter", naive(), "--examples", "0", "--only", "wire/valid-00[12]"]
    assert main(argv) == EXIT_CONFORMANT
    assert "CONFORMANT in" in capsys.readouterr().out


def test_a_selection_that_matches_nothing_gives_no_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--provider", "wiro", "--adapter", naive(), "--only", "wire/nothing"]) == EXIT_NOT_CONFORMANT
    assert "NO VERDICT" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("provider", "flags", "expected"),
    [("wiro", (), EXIT_CONFORMANT), ("wiro", ("--bad-signature",), EXIT_NOT_CONFORMANT)],
)
def test_a_remote_emulator_is_judged_from_its_journal(provider: str, flags: tuple[str, ...], expected: int) -> None:
    remote = InProcess.start(timing="fast", seed=0)
    try:
        argv = [
            "run",
            "--provider",
            provider,
            "--adapter",
            naive(*flags),
            "--emulator",
            remote.base,
            "--only",
            "wire/valid-001",
        ]
        assert main(argv) == expected
    finally:
        remote.close()


def test_a_remote_emulator_with_a_control_token_is_driven_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.handle import CONTROL_TOKEN, Remote
    from tests.sdk.live import LiveEmulator

    with LiveEmulator(timing="instant", control_token="t0ken") as live:
        with pytest.raises(httpx.HTTPStatusError):
            Remote(live.base)
        monkeypatch.setenv(CONTROL_TOKEN, "t0ken")
        remote = Remote(live.base)
        remote.reset()
        remote.close()
