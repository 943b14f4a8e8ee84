"""The matrix page: a row per adapter and provider, a cell per check, the findings spelled out."""

from __future__ import annotations

from conformance.events import CaseResult
from conformance.matrix import Cell, render


def test_rows_cells_and_findings() -> None:
    good = Cell("reference", "wiro", [CaseResult("wire", "valid-001", "t", "passed"), CaseResult("lifecycle", "cancel", "t", "skipped")], 12.4)
    bad = Cell("replicate", "replicate", [
        CaseResult("wire", "valid-001", "t", "passed"),
        CaseResult("resilience", "stalled_job", "the job never leaves 'running'", "failed", "no answer | within 8 s"),
    ], 30.0)
    broken = Cell("runware-legacy", "runware", unavailable="AdapterUnavailable: pip failed")
    page = render([good, bad, broken], ["wire", "lifecycle", "resilience"], 4, 0)
    assert "| reference | wiro | ✅ 1/1 | skipped | skipped | conformant | 12 s |" in page
    assert "| replicate | replicate | ✅ 1/1 | skipped | ❌ 0/1 | **not conformant** | 30 s |" in page
    assert "| runware-legacy | runware | — | — | — | unavailable | 0 s |" in page
    assert "- `resilience/stalled_job` the job never leaves 'running': no answer \\| within 8 s" in page
    assert "### runware-legacy × runware\n\n- could not start: AdapterUnavailable: pip failed" in page
    assert "### reference × wiro" not in page
