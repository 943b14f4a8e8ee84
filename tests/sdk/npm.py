"""Node scripts run by the tests against the official npm clients, installed by conformance.npm into .cache/npm."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from conformance import npm

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SEEDREAM_NPM_CACHE", ROOT / ".cache" / "npm"))
SCRIPTS = Path(__file__).parent / "scripts"


def modules_for(name: str, *packages: str) -> Path:
    return npm.modules_for(name, *packages, under=CACHE)


def start_node(modules: Path, script: str, payload: dict[str, Any]) -> subprocess.Popen[str]:
    """Start tests/sdk/scripts/<script> under node with a JSON payload file as its argument; collect with `finish`."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(payload, handle)
    return subprocess.Popen(
        [npm.node(), str(SCRIPTS / script), handle.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **npm.node_env(modules)},
    )


def finish(process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
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


def run_node(modules: Path, script: str, payload: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    return finish(start_node(modules, script, payload), timeout)
