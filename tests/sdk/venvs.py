"""SDK scripts run by the tests, each in its cached virtualenv (conformance.venvs builds them)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from conformance import venvs

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SEEDREAM_SDK_VENVS", ROOT / ".cache" / "sdk-venvs"))
SCRIPTS = Path(__file__).parent / "scripts"


def python_for(name: str, *requirements: str) -> Path:
    return venvs.python_for(name, *requirements, under=CACHE)


def start_script(python: Path, script: str, payload: dict[str, Any]) -> subprocess.Popen[str]:
    """Start tests/sdk/scripts/<script> with a JSON payload file as its argument; collect it with `finish`."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONUNBUFFERED": "1"}
    return start([str(python), str(SCRIPTS / script)], payload, env)


def start(command: list[str], payload: dict[str, Any], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start `command` with a JSON payload file as its last argument; collect it with `finish`."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(payload, handle)
    return subprocess.Popen([*command, handle.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process: subprocess.Popen[str], timeout: float = 180) -> dict[str, Any]:
    """The one JSON object the script printed last."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(f"the script did not finish in {timeout} s:\n{stdout[-2000:]}\n{stderr[-4000:]}") from None
    if process.returncode != 0:
        raise AssertionError(f"the script failed ({process.returncode}):\n{stdout[-2000:]}\n{stderr[-4000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def run_script(python: Path, script: str, payload: dict[str, Any], timeout: float = 180) -> dict[str, Any]:
    return finish(start_script(python, script, payload), timeout)
