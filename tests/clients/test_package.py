"""The clients are ordinary clients: standard library and httpx only, nothing from the emulator's side."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import clients

PACKAGE = Path(clients.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_every_module_imports_only_the_standard_library_and_httpx() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {path.name for path in modules} >= {"_errors.py", "_image.py", "_retry.py", "_polling.py", "runware.py"}
    for path in modules:
        outside = imported_roots(path) - set(sys.stdlib_module_names) - {"httpx", "__future__"}
        assert not outside, f"{path.name} imports {outside}"
