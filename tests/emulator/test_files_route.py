"""`/files/` serves the emulator's own artifacts and nothing else, however a path is spelled."""

from __future__ import annotations

import pytest

from tests.conftest import Emulator

TRAVERSALS = [
    "../pyproject.toml",
    "..%2fpyproject.toml",
    "%2e%2e/pyproject.toml",
    "%2e%2e%2fpyproject.toml",
    "%252e%252e%252fpyproject.toml",
    "..%5cpyproject.toml",
    "..\\\\pyproject.toml",
    "%c0%ae%c0%ae/pyproject.toml",
    "..;/pyproject.toml",
    "....//pyproject.toml",
    "pyproject.toml%00.png",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "file:%2f%2f%2fetc%2fpasswd",
    "fixture-10x10-png.png%2f..%2f..%2fpyproject.toml",
]


@pytest.mark.parametrize("spelling", TRAVERSALS)
@pytest.mark.parametrize("prefix", ["/files/", "/replicate/v1/files/", "/files/a/"])
async def test_no_spelling_reaches_a_file_outside_the_store(emulator: Emulator, prefix: str, spelling: str) -> None:
    response = await emulator.client.get(prefix + spelling)
    assert response.status_code in (400, 401, 404), (spelling, response.status_code)
    assert b"[project]" not in response.content and b"root:" not in response.content
