"""conformance.npm: one cached install per pinned package list, reused, and clear errors when npm cannot help."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance import npm


def local_package(root: Path, name: str, version: str) -> Path:
    """A package npm installs from a folder, without the registry."""
    folder = root / f"{name}-{version}"
    folder.mkdir()
    (folder / "package.json").write_text(json.dumps({"name": name, "version": version, "main": "index.js"}))
    (folder / "index.js").write_text(f"module.exports = {json.dumps(version)};\n")
    return folder


def version_seen_by_node(modules: Path, name: str) -> str:
    script = f"process.stdout.write(require({json.dumps(name)}))"
    done = subprocess.run([npm.node(), "-e", script], env=npm.node_env(modules), capture_output=True, text=True)
    return done.stdout


def test_installs_once_and_reinstalls_only_when_the_pins_change(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    one, two = local_package(tmp_path, "pinned-thing", "1.0.0"), local_package(tmp_path, "pinned-thing", "2.0.0")
    modules = npm.modules_for("thing", str(one), under=cache)
    assert version_seen_by_node(modules, "pinned-thing") == "1.0.0"
    marker = cache / "thing" / "packages.json"
    stamp = marker.stat().st_mtime_ns
    assert npm.modules_for("thing", str(one), under=cache) == modules and marker.stat().st_mtime_ns == stamp
    npm.modules_for("thing", str(two), under=cache)
    assert version_seen_by_node(modules, "pinned-thing") == "2.0.0"


def test_a_failed_install_names_the_packages_and_npms_reason(tmp_path: Path) -> None:
    with pytest.raises(npm.NodeUnavailable, match="npm install .*missing-folder failed"):
        npm.modules_for("broken", str(tmp_path / "missing-folder"), under=tmp_path / "cache")
    assert not (tmp_path / "cache" / "broken" / "packages.json").exists(), "a failed install is not cached"


def test_missing_node_or_npm_is_said_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(npm.NodeUnavailable, match="npm is not installed"):
        npm.modules_for("anything", "left-pad@1.3.0", under=tmp_path)
    with pytest.raises(npm.NodeUnavailable, match="node is not installed"):
        npm.node()
