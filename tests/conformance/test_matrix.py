"""The matrix page: a row per adapter and provider, a cell per check, the findings spelled out."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.events import CaseResult
from conformance.matrix import Cell, render


def test_rows_cells_and_findings() -> None:
    good = Cell(
        "reference",
        "wiro",
        [CaseResult("wire", "valid-001", "t", "passed"), CaseResult("lifecycle", "cancel", "t", "skipped")],
        12.4,
    )
    bad = Cell(
        "replicate",
        "replicate",
        [
            CaseResult("wire", "valid-001", "t", "passed"),
            CaseResult(
                "resilience", "stalled_job", "the job never leaves 'running'", "failed", "no answer | within 8 s"
            ),
        ],
        30.0,
    )
    broken = Cell("runware-legacy", "runware", unavailable="AdapterUnavailable: pip failed")
    page = render([good, bad, broken], ["wire", "lifecycle", "resilience"], 4, 0)
    assert "| reference | wiro | ✅ 1/1 | skipped | skipped | conformant | 12 s |" in page
    assert "| replicate | replicate | ✅ 1/1 | skipped | ❌ 0/1 | **not conformant** | 30 s |" in page
    assert "| runware-legacy | runware | — | — | — | unavailable | 0 s |" in page
    assert "- `resilience/stalled_job` the job never leaves 'running': no answer \\| within 8 s" in page
    assert "### runware-legacy × runware\n\n- could not start: AdapterUnavailable: pip failed" in page
    assert "### reference × wiro" not in page


def test_the_page_ends_with_the_mutation_suite_or_keeps_the_one_it_had() -> None:
    from conformance import mutants

    cell = Cell("reference", "wiro", [CaseResult("wire", "valid-001", "t", "passed")], 1.0)
    assert render([cell], ["wire"], 0, 0).rstrip().endswith(mutants.render())
    kept = mutants.render().replace("applies", "✅ `wire/valid-001`")
    assert kept in render([cell], ["wire"], 0, 0, kept)


async def test_rewriting_the_page_keeps_the_mutation_results_it_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance import matrix, mutants

    async def cells(*args: object) -> list[Cell]:
        return [Cell("reference", "wiro", [CaseResult("wire", "valid-001", "t", "passed")], 1.0)]

    monkeypatch.setattr(matrix, "run_matrix", cells)
    out = tmp_path / "conformance.md"
    measured = mutants.render().replace("applies", "✅ `wire/valid-001`")
    out.write_text("# old page\n\n" + measured + "\n")
    assert await matrix.write_matrix(out, ["reference"], ["wire"], 0, 0) == 0
    page = out.read_text()
    assert "# old page" not in page and mutants.section_of(page) == measured
