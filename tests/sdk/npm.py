"""Node scripts run by the tests against the official npm clients, installed by conformance.npm into .cache/npm."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from conformance import npm
from tests.sdk import venvs as scripts

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SEEDREAM_NPM_CACHE", ROOT / ".cache" / "npm"))
SCRIPTS = Path(__file__).parent / "scripts"


def modules_for(name: str, *packages: str) -> Path:
    return npm.modules_for(name, *packages, under=CACHE)


def start_node(modules: Path, script: str, payload: dict[str, Any]) -> subprocess.Popen[str]:
    """Start tests/sdk/scripts/<script> under node with a JSON payload file as its argument; collect with `finish`."""
    return scripts.start([npm.node(), str(SCRIPTS / script)], payload, {**os.environ, **npm.node_env(modules)})


def finish(process: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    """The one JSON object the script printed last."""
    return scripts.finish(process, timeout)


def run_node(modules: Path, script: str, payload: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    return finish(start_node(modules, script, payload), timeout)
