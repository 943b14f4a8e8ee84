"""Cached virtual environments for clients that cannot share the harness's environment.

runware 0.5.24 and runware-sdk 1.8.0 both install the package `runware`, so each runs in its own
environment, built once per requirement set and reused (under SEEDREAM_SDK_VENVS, by default
~/.cache/seedream-conformance/venvs).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import venv
from pathlib import Path

DEFAULT_ROOT = Path.home() / ".cache" / "seedream-conformance" / "venvs"


def root() -> Path:
    return Path(os.environ.get("SEEDREAM_SDK_VENVS") or DEFAULT_ROOT)


def python_for(name: str, *requirements: str, under: Path | None = None) -> Path:
    """The interpreter of an environment with exactly `requirements` installed (built when missing)."""
    base = under or root()
    home = base / name
    marker = home / "requirements.json"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists() or json.loads(marker.read_text()) != list(requirements):
            venv.EnvBuilder(clear=True, with_pip=True).create(home)
            subprocess.run(
                [
                    str(home / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    *requirements,
                ],
                check=True,
            )
            marker.write_text(json.dumps(list(requirements)))
    return home / "bin" / "python"
