"""JUnit XML for CI: one testsuite per check, one testcase per case, failures with the traffic."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from ..events import CaseResult, RunFinished
from ._collect import Collecting

# XML 1.0 forbids most control characters; client traffic may contain any of them.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class JUnitReporter(Collecting):
    def write(self, finished: RunFinished) -> None:
        ET.ElementTree(self.document(finished)).write(self.path, encoding="utf-8", xml_declaration=True)

    def document(self, finished: RunFinished) -> ET.Element:
        name = (
            f"seedream-conformance {self.started.adapter} {self.started.provider}"
            if self.started
            else "seedream-conformance"
        )
        root = ET.Element("testsuites", name=name, time=f"{finished.duration:.3f}")
        checks = (
            [check.id for check in self.started.checks] if self.started else sorted({r.check for r in self.results})
        )
        for check in checks:
            cases = [result for result in self.results if result.check == check]
            suite = ET.SubElement(
                root,
                "testsuite",
                name=f"{self.started.provider}.{check}" if self.started else check,
                tests=str(len(cases)),
                failures=str(sum(r.status == "failed" for r in cases)),
                skipped=str(sum(r.status == "skipped" for r in cases)),
                errors="0",
                time=f"{sum(r.duration for r in cases):.3f}",
            )
            for result in cases:
                _testcase(suite, result)
        return root


def _testcase(suite: ET.Element, result: CaseResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=suite.get("name", ""),
        name=_safe(f"{result.case}: {result.title}"),
        time=f"{result.duration:.3f}",
    )
    if result.status == "failed":
        failure = ET.SubElement(case, "failure", message=_safe(result.message), type="conformance")
        traffic = json.dumps(
            {"details": result.details, "exchanges": result.exchanges}, indent=2, ensure_ascii=False, default=str
        )
        failure.text = _safe(traffic)
    elif result.status == "skipped":
        ET.SubElement(case, "skipped", message=_safe(result.message))


def _safe(text: str) -> str:
    return NOT_XML.sub("\ufffd", text)
