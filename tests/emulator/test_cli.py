import asyncio
import importlib.util
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from emulator.cli import parser, settings_from
from tests.support import present


def test_serve_flags_have_the_public_names() -> None:
    args = parser().parse_args(
        [
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "9001",
            "--provider",
            "runware",
            "--public-url",
            "http://e:9001",
            "--timing",
            "instant",
            "--seed",
            "5",
            "--api-key",
            "a",
            "--api-key",
            "b",
        ]
    )
    settings = settings_from(args)
    assert (settings.host, settings.port, settings.provider, settings.public_url) == (
        "0.0.0.0",
        9001,
        "runware",
        "http://e:9001",
    )
    assert (settings.timing, settings.seed, settings.api_keys) == ("instant", 5, ("a", "b"))


def test_unknown_provider_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(["serve", "--provider", "openai"])
    assert exit_info.value.code == 2


def test_serve_starts_prints_every_surface_and_answers_health() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--seed", "11", "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        stdout, stderr = present(process.stdout), present(process.stderr)
        lines: list[str] = []
        while not any("dashboard" in line for line in lines):
            line = stdout.readline()
            assert line, stderr.read()
            lines.append(line)
        text = "".join(lines)
        assert "seed 11" in text
        runware = re.search(r"Runware\s+REST\s+(http://\S+/runware/v1)", text)
        assert runware, text
        for title, label, path in (
            ("Ark", "base_url", "/ark/api/v3"),
            ("fal", "queue", "/fal/queue"),
            ("fal", "proxy", "/fal/proxy"),
        ):
            assert re.search(rf"{title}\s+{label}\s+http://\S+{path}\n", text), text
        health = re.search(r"(http://\S+/_emulator/health)", text)
        assert health, text
        health_url = health.group(1)
        with urllib.request.urlopen(health_url, timeout=5) as response:
            assert json.load(response)["surfaces"]["runware"]["REST"].endswith("/runware/v1")
        dashboard = re.search(r"dashboard\s+browser\s+(http://\S+/_emulator/ui/)", text)
        assert dashboard, text
        with urllib.request.urlopen(dashboard.group(1), timeout=5) as response:
            assert b"<title>Seedream emulator</title>" in response.read()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_scenario_flag_reaches_the_settings(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('timing = "instant"\n[[faults]]\naction = "error"\nstatus = 503\n')
    settings = settings_from(parser().parse_args(["serve", "--scenario", str(scenario)]))
    assert settings.timing == "instant" and settings.faults[0]["status"] == 503


def test_a_bad_scenario_stops_the_server_with_a_message_not_a_traceback(tmp_path: Path) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[[faults]]\naction = "explode"\n')
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "faults[0]" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_wiro_project_stops_the_server_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--port", "0", "--wiro-project", "no-secret"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "wiro" in result.stderr.lower()


def test_the_server_runs_on_uvloop_when_it_is_installed() -> None:
    from emulator.cli import run

    async def loop_kind() -> int:
        return 1 if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else 0

    expected = 1 if importlib.util.find_spec("uvloop") else 0
    assert run(loop_kind()) == expected
