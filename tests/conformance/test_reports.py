"""Reporters render the event stream: console progress and verdict, JUnit XML, one HTML page."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.checks import CHECKS
from conformance.events import (
    CaseFinished,
    CaseResult,
    CheckFinished,
    CheckStarted,
    Event,
    Evidence,
    RunFinished,
    RunStarted,
)
from conformance.reports import ConsoleReporter, HtmlReporter, JUnitReporter, Reporter

THUMBNAIL = "data:image/jpeg;base64,/9j/AAAA"
EXCHANGE = {
    "seq": 3,
    "method": "POST",
    "path": "/runware/v1",
    "status": 400,
    "request": '[{"x": "\x00"}]',
    "response": "{}",
}


def stream(*, failing: bool) -> list[Event]:
    wire, results = CHECKS["wire"], CHECKS["results"]
    passed = CaseResult("wire", "valid-001", "4.0 square", "passed", duration=0.5)
    broken = CaseResult(
        "wire",
        "valid-002",
        "2000-character prompt",
        "failed" if failing else "passed",
        "<script>alert(1)</script> /positivePrompt is too long\x07",
        1.25,
        {"requests": 1},
        [EXCHANGE],
    )
    image = CaseResult(
        "results",
        "valid-001",
        "4.0 square",
        "passed",
        images=[Evidence(THUMBNAIL, {"width": 2048, "height": 2048, "format": "jpeg"})],
    )
    skipped = CaseResult("results", "valid-002", "no images", "skipped", "the client offers no cancellation")
    everything = (passed, broken, image, skipped)
    return [
        RunStarted("runware", "reference", 0, (wire, results), "http://127.0.0.1:9"),
        CheckStarted(wire),
        CaseFinished(passed),
        CaseFinished(broken),
        CheckFinished(wire, 1 + (not failing), int(failing), 0),
        CheckStarted(results),
        CaseFinished(image),
        CaseFinished(skipped),
        CheckFinished(results, 1, 0, 1),
        RunFinished(not failing, 3.5, everything),
    ]


def feed(reporter: Reporter, events: list[Event]) -> None:
    for event in events:
        reporter.handle(event)


def test_console_shows_progress_table_failures_and_verdict() -> None:
    out = io.StringIO()
    feed(ConsoleReporter(out), stream(failing=True))
    text = out.getvalue()
    assert "wire        .F 1 passed, 1 failed, 0 skipped" in text
    assert "results     .s 1 passed, 0 failed, 1 skipped" in text
    assert "FAILED wire/valid-002 (2000-character prompt)" in text
    assert text.rstrip().endswith("NOT CONFORMANT: 1 failing case(s) in 3.5 s")


def test_console_verbose_names_every_case_and_a_clean_run_is_conformant() -> None:
    out = io.StringIO()
    feed(ConsoleReporter(out, verbose=True), stream(failing=False))
    assert "PASSED  valid-002 2000-character prompt" in out.getvalue()
    assert "SKIPPED valid-002 no images: the client offers no cancellation" in out.getvalue()
    assert out.getvalue().rstrip().endswith("CONFORMANT in 3.5 s")


def test_junit_has_a_suite_per_check_and_failures_carry_the_traffic(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.xml"
    feed(JUnitReporter(path), stream(failing=True))
    root = ET.parse(path).getroot()
    suites = {suite.get("name"): suite for suite in root}
    assert list(suites) == ["runware.wire", "runware.results"]
    assert (suites["runware.wire"].get("tests"), suites["runware.wire"].get("failures")) == ("2", "1")
    assert suites["runware.results"].get("skipped") == "1"
    failure = suites["runware.wire"].find("testcase[@name='valid-002: 2000-character prompt']/failure")
    assert failure is not None and "/positivePrompt is too long\ufffd" in failure.get("message", "")
    assert '"path": "/runware/v1"' in (failure.text or "") and "\\u0000" in (failure.text or "")


def test_html_is_one_escaped_page_with_thumbnails_and_failing_traffic(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    feed(HtmlReporter(path), stream(failing=True))
    page = path.read_text()
    assert "Not conformant: 1 failing case(s)" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"src='{THUMBNAIL}'" in page and "2048x2048 jpeg" in page
    assert "<details open><summary>traffic</summary>" in page and "/runware/v1" in page
    assert "http://" not in page.replace("http://127.0.0.1:9", ""), "the page must not load anything"
