"""The dashboard's copy-paste snippets work as pasted: each Python one, run against a live emulator, gets an image.

(The runware-sdk snippet needs the SDK's own virtualenv; tests/sdk drives that SDK the same way.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sdk.live import LiveEmulator

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def start() -> Iterator[tuple[LiveEmulator, dict[str, Any]]]:
    with LiveEmulator(timing="instant") as live:
        yield live, httpx.get(f"{live.base}/_emulator/ui/api/start").json()


@pytest.mark.parametrize("surface", ["wiro", "evolink", "replicate"])
def test_the_client_snippet_runs_and_gets_an_image(
    surface: str, start: tuple[LiveEmulator, dict[str, Any]], tmp_path: Path
) -> None:
    live, page = start
    [snippets] = [entry["snippets"] for entry in page["surfaces"] if entry["name"] == surface]
    [code] = [snippet["code"] for snippet in snippets if snippet["language"] == "python"]
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert f"{live.base}/files/" in result.stdout or (tmp_path / "fox.jpg").stat().st_size > 0
