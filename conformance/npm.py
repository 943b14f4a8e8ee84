"""Cached npm folders for the JavaScript clients, the way `venvs` caches the Python SDKs' environments.

Each folder holds exactly the pinned packages it was asked for, installed once with the machine's own
`npm` (from its registry, or its local cache when offline) and reused (under SEEDREAM_NPM_CACHE, by
default ~/.cache/seedream-conformance/npm). Node runners find the packages through NODE_PATH, so they
run from anywhere without a package.json of their own.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

DEFAULT_ROOT = Path.home() / ".cache" / "seedream-conformance" / "npm"

# The official clients as released, pinned so a new release cannot change a verdict overnight.
REPLICATE_JS = "replicate@1.4.0"
RUNWARE_JS = "@runware/sdk-js@1.3.2"
FAL_JS = "@fal-ai/client@1.10.1"
# The example TypeScript adapter is compiled with tsc (Node 20 cannot strip types itself).
TYPESCRIPT = ("typescript@5.9.3", "@types/node@20.19.43")


class NodeUnavailable(RuntimeError):
    """node or npm is missing, or the install failed."""


def root() -> Path:
    return Path(os.environ.get("SEEDREAM_NPM_CACHE") or DEFAULT_ROOT)


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise NodeUnavailable("node is not installed (Node 18 or later runs the JavaScript clients)")
    return found


def modules_for(name: str, *packages: str, under: Path | None = None) -> Path:
    """The node_modules folder of a cached install of exactly `packages` (installed when missing)."""
    base = under or root()
    home = base / name
    marker = home / "packages.json"
    base.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists() and json.loads(marker.read_text()) == list(packages):
            return home / "node_modules"
        if npm is None:
            raise NodeUnavailable("npm is not installed, so the JavaScript clients cannot be installed")
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        # A package.json of its own keeps npm from walking up to a project above the cache.
        (home / "package.json").write_text(json.dumps({"name": f"seedream-{name}", "private": True}))
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--save-exact", *packages],
            cwd=home,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise NodeUnavailable(f"npm install {' '.join(packages)} failed:\n{done.stderr[-2000:]}")
        marker.write_text(json.dumps(list(packages)))
    return home / "node_modules"


def node_env(modules: Path) -> dict[str, str]:
    """The environment a runner needs to `require` the packages in `modules`."""
    return {"NODE_PATH": str(modules)}
