"""One self-contained HTML page: verdict, per-check tables, failing traffic and image thumbnails."""

from __future__ import annotations

import json
import time
from html import escape

from ..events import CaseResult, CheckInfo, Evidence, RunFinished
from ._collect import Collecting

THUMBNAILS_PER_CASE = 8
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;color:#1d232b;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}.meta{color:#5a6570}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.pass{background:#e3f5e6;color:#17612a}.fail{background:#fde7e7;color:#8c1c1c}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e2e6ea;vertical-align:top}
th{background:#f4f6f8}.status{font-weight:600;white-space:nowrap}.passed{color:#17612a}.failed{color:#b42318}.skipped{color:#7a7f85}
.rationale{color:#3d4750;margin:.2rem 0}.fact{color:#5a6570;font-size:.9em}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;max-height:24rem;font-size:12px;white-space:pre-wrap;word-break:break-all}
.thumbs{display:flex;flex-wrap:wrap;gap:.5rem}.thumbs figure{margin:0;font-size:11px;color:#5a6570;max-width:170px}
.thumbs img{display:block;border:1px solid #d0d7de;max-width:160px;max-height:160px}
"""


class HtmlReporter(Collecting):
    def write(self, finished: RunFinished) -> None:
        self.path.write_text(self.page(finished), encoding="utf-8")

    def page(self, finished: RunFinished) -> str:
        started = self.started
        heading = f"{started.adapter} against {started.provider}" if started else "conformance run"
        failures = sum(result.status == "failed" for result in self.results)
        verdict = "Conformant" if finished.passed else f"Not conformant: {failures} failing case(s)"
        checks = started.checks if started else ()
        meta = (
            f"seed {started.seed} · emulator {escape(started.emulator)} · " if started else ""
        ) + f"{finished.duration:.1f} s · {time.strftime('%Y-%m-%d %H:%M:%S %Z')}"
        parts = [
            "<!doctype html><html lang=en><meta charset=utf-8>",
            f"<title>Seedream conformance: {escape(heading)}</title><style>{STYLE}</style>",
            f"<h1>Seedream conformance: {escape(heading)}</h1><p class=meta>{meta}</p>",
            f"<div class='verdict {'pass' if finished.passed else 'fail'}'>{escape(verdict)}</div>",
            self._summary(checks),
            *(self._check(check) for check in checks),
            "</html>",
        ]
        return "\n".join(parts)

    def _summary(self, checks: tuple[CheckInfo, ...]) -> str:
        rows = []
        for check in checks:
            mine = [result for result in self.results if result.check == check.id]
            counts = {
                status: sum(result.status == status for result in mine) for status in ("passed", "failed", "skipped")
            }
            rows.append(
                f"<tr><td><a href='#{check.id}'>{check.id}</a></td><td>{escape(check.title)}</td>"
                + "".join(f"<td class={status}>{count}</td>" for status, count in counts.items())
                + "</tr>"
            )
        return (
            "<table><tr><th>check</th><th>what it asks</th><th>passed</th><th>failed</th><th>skipped</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    def _check(self, check: CheckInfo) -> str:
        rows = "".join(_row(result) for result in self.results if result.check == check.id)
        return (
            f"<section id='{check.id}'><h2>{escape(check.id)}: {escape(check.title)}</h2>"
            f"<p class=rationale>{escape(check.rationale)}</p><p class=fact>Provider fact: {escape(check.fact)}</p>"
            f"<table><tr><th>status</th><th>case</th><th>what happened</th><th>time</th></tr>{rows}</table></section>"
        )


def _row(result: CaseResult) -> str:
    body = f"<strong>{escape(result.title)}</strong>"
    if result.message:
        body += f"<div>{escape(result.message)}</div>"
    if result.images:
        body += _thumbnails(result.images)
    if result.status == "failed":
        body += _disclosure("details", result.details, opened=True) + _disclosure(
            "traffic", result.exchanges, opened=True
        )
    elif result.details:
        body += _disclosure("details", result.details, opened=False)
    return (
        f"<tr><td class='status {result.status}'>{result.status}</td><td>{escape(result.case)}</td>"
        f"<td>{body}</td><td>{result.duration:.2f} s</td></tr>"
    )


def _thumbnails(images: list[Evidence]) -> str:
    figures = []
    for index, image in enumerate(images[:THUMBNAILS_PER_CASE]):
        caption = image.problem or (
            f"{image.metadata['width']}x{image.metadata['height']} {image.metadata['format']}" if image.metadata else ""
        )
        picture = (
            f"<img alt='image {index}' src='{escape(image.thumbnail)}'>"
            if image.thumbnail
            else "<div>(no picture)</div>"
        )
        figures.append(f"<figure>{picture}<figcaption>{index}: {escape(caption)}</figcaption></figure>")
    more = f"<figure>+{len(images) - THUMBNAILS_PER_CASE} more</figure>" if len(images) > THUMBNAILS_PER_CASE else ""
    return f"<div class=thumbs>{''.join(figures)}{more}</div>"


def _disclosure(label: str, value: object, *, opened: bool) -> str:
    if not value:
        return ""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return f"<details{' open' if opened else ''}><summary>{label}</summary><pre>{escape(text)}</pre></details>"
