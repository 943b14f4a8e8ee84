"""Reporters turn the run's event stream into something people read: a console, JUnit XML, HTML."""

from __future__ import annotations

from typing import Protocol

from ..events import Event
from .console import ConsoleReporter
from .html import HtmlReporter
from .junit import JUnitReporter


class Reporter(Protocol):
    def handle(self, event: Event) -> None: ...


__all__ = ["ConsoleReporter", "HtmlReporter", "JUnitReporter", "Reporter"]
