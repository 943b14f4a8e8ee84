"""Cached virtual environments for official SDKs that cannot share one environment.

runware 0.5.24 and runware-sdk 1.8.0 both install the package `runware`, so each SDK gets its own
environment under .cache/sdk-venvs (override with SEEDREAM_SDK_VENVS). An environment is rebuilt
only when its requirement changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SEEDREAM_SDK_VENVS", ROOT / ".cache" / "sdk-venvs"))
SCRIPTS = Path(__file__).parent / "scripts"


def python_for(name: str, *requirements: str) -> Path:
    home = CACHE / name
    marker = home / "requirements.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or json.loads(marker.read_text()) != list(requirements):
            venv.EnvBuilder(clear=True, with_pip=True).create(home)
            subprocess.run(
                [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
                check=True,
            )
            marker.write_text(json.dumps(list(requirements)))
    return home / "bin" / "python"


def run_script(python: Path, script: str, payload: dict[str, Any], timeout: float = 180) -> dict[str, Any]:
    """Run tests/sdk/scripts/<script> with a JSON payload on stdin; it prints one JSON object."""
    result = subprocess.run(
        [str(python), str(SCRIPTS / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | {"PYTHONUNBUFFERED": "1"},
    )
    if result.returncode != 0:
        raise AssertionError(f"{script} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(python_for(sys.argv[1], *sys.argv[2:]))
