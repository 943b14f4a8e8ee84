"""The distribution and the container image carry what the emulator needs at run time."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_every_contract_document(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    [wheel] = tmp_path.glob("seedream_emulator-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for schema in (ROOT / "contracts").rglob("*.json"):
        assert schema.relative_to(ROOT).as_posix() in names
    assert {
        "emulator/cli.py",
        "conformance/cli.py",
        "clients/__init__.py",
        "conformance/adapters/runners/runware_sdk.py",
        "conformance/adapters/runners/replicate_js.js",
        "conformance/adapters/runners/runware_js.js",
        "conformance/adapters/runners/jsonlines.js",
        "conformance/adapters/runners/fal_python.py",
        "conformance/adapters/runners/fal_js.js",
        # The dashboard's files: served from the package, so an installed emulator has its dashboard.
        "emulator/control/static/index.html",
        "emulator/control/static/app.js",
        "emulator/control/static/style.css",
    } <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "seedream-emulator = emulator.cli:main" in text
    assert "seedream-conformance = conformance.cli:main" in text
    assert "[pytest11]\nseedream = conformance.pytest_plugin" in text


def test_dockerfile_serves_on_all_interfaces_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("FROM python:3.11-slim")
    assert "USER seedream" in text and "EXPOSE 8000" in text
    assert "HEALTHCHECK" in text and "/_emulator/health" in text
    assert 'CMD ["serve", "--host", "0.0.0.0"]' in text
    assert "SEEDREAM_EMULATOR_PORT=8000" in text and "os.environ['SEEDREAM_EMULATOR_PORT']" in text
    for package in ("emulator", "contracts", "conformance", "clients"):
        assert f"COPY {package} ./{package}" in text and (ROOT / package / "__init__.py").exists()


def test_readme_first_screen_has_exactly_the_two_setup_commands() -> None:
    first_block = (ROOT / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["pip install -e . && seedream-emulator serve", "pip install -e '.[test]' && pytest"]
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    # CI runs the README's test command, with the quality gates between its install and its pytest.
    assert ci.index("pip install -e '.[test]'") < ci.index("pytest") == len(ci) - 1
    assert {"ruff format --check .", "ruff check .", "mypy", "mypy tests bench", "lint-imports"} <= set(ci)
