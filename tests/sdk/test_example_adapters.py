"""The adapter kit's examples (examples/adapters/) pass adapter-check and the harness for their provider.

The runs here take every lifecycle and resilience case and the first boundary cases of the other checks, which
keeps them near 20 s each; examples/adapters/README.md records the full runs (`seedream-conformance run`).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance import npm
from conformance.adapters import AdapterSpec
from conformance.cli import EXIT_CONFORMANT, main
from conformance.events import RunFinished
from conformance.runner import RunConfig, run
from tests.sdk.npm import modules_for

pytestmark = pytest.mark.sdk
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "adapters"
CASES = ("lifecycle/*", "resilience/*", "wire/valid-00[1-3]", "results/valid-00[1-3]", "limits/invalid-00[1-3]")


@pytest.fixture(scope="module")
def typescript_adapter(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The TypeScript example compiled as its README says (tsc -p), with the pinned tsc from the npm cache."""
    modules = modules_for("typescript-5.9.3", *npm.TYPESCRIPT)
    out = tmp_path_factory.mktemp("typescript-adapter")
    tsc = [npm.node(), str(modules / "typescript" / "bin" / "tsc")]
    project = ["-p", str(EXAMPLES / "typescript"), "--typeRoots", str(modules / "@types"), "--outDir", str(out)]
    compiled = subprocess.run([*tsc, *project], capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    return [npm.node(), str(out / "evolink.js")]


@pytest.fixture(scope="module")
def shell_adapter() -> list[str]:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    assert not missing, f"the shell example needs {', '.join(missing)} on PATH"
    return [str(EXAMPLES / "shell" / "replicate.sh")]


async def verdict(provider: str, command: list[str]) -> dict[str, str]:
    """The failing cases of a run over CASES, by id."""
    spec = AdapterSpec.parse("subprocess:" + shlex.join(command))
    async for event in run(RunConfig(provider, spec, examples=0, only=CASES)):
        if isinstance(event, RunFinished):
            assert sum(r.status == "passed" for r in event.results) >= 15
            return {f"{r.check}/{r.case}": r.message for r in event.results if r.status == "failed"}
    raise AssertionError("the run did not finish")


def test_typescript_example_speaks_the_protocol(typescript_adapter: list[str]) -> None:
    assert main(["adapter-check", "--provider", "evolink", "--", *typescript_adapter]) == EXIT_CONFORMANT


async def test_typescript_example_passes_the_harness_for_evolink(typescript_adapter: list[str]) -> None:
    assert await verdict("evolink", typescript_adapter) == {}


def test_shell_example_speaks_the_protocol(shell_adapter: list[str]) -> None:
    assert main(["adapter-check", "--provider", "replicate", "--", *shell_adapter]) == EXIT_CONFORMANT


async def test_shell_example_passes_the_harness_for_replicate(shell_adapter: list[str]) -> None:
    assert await verdict("replicate", shell_adapter) == {}
