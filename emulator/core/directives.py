"""Prompt directives: fault rules for one request, written into its prompt by clients that cannot
reach the control API.

    [[emulator:fail=content_policy]]            the job fails with that failure kind
    [[emulator:latency=2s]]                     the request waits 2 s (also 500ms, 1.5s, 1m, 1s..3s)
    [[emulator:stall=running]]                  the job stays queued or running
    [[emulator:images=1]]                       the job makes only that many images
    [[emulator:error=429;retry-after=5s]]       the request answers that HTTP error (surface-shaped)
    [[emulator:disconnect=reset]]               reset / close / abrupt
    [[emulator:webhook=duplicate]]              drop / duplicate / reorder / delay:5s

Several directives may share one block, separated by `;`, and a prompt may hold several blocks.
Blocks are removed from the prompt before anything is generated or echoed; the validation of the
prompt (its length, for one) still sees what the client sent, as the real provider would.
"""

from __future__ import annotations

import re

from .faults import FaultError, Rule

BLOCK = re.compile(r"\[\[emulator:([^\]]*)\]\]")
OPENING = "[[emulator:"
# Characters: a prompt is searched for directives only if its head holds one (far longer than any real prompt).
SCAN = 65_536
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def extract(prompt: str) -> tuple[str, tuple[Rule, ...], list[str]]:
    """The prompt without its directive blocks, the rules they ask for, and a warning per bad directive."""
    # Directives are looked for in the head of a prompt: a regex scan of a 60 MB one held the event loop 45 ms.
    if OPENING not in prompt[:SCAN]:
        return prompt, (), []
    rules: list[Rule] = []
    warnings: list[str] = []
    for block in BLOCK.findall(prompt):
        pending: dict[str, str] = {}
        for part in block.split(";"):
            name, _, value = part.partition("=")
            if name.strip():
                pending[name.strip().lower()] = value.strip()
        retry_after = pending.pop("retry-after", None)
        for name, value in pending.items():
            try:
                rules.append(_rule(name, value, retry_after))
            except (FaultError, ValueError) as exc:
                warnings.append(f"ignored prompt directive {name}={value}: {exc}")
    if not rules and not warnings:
        return prompt, (), []
    clean = " ".join(BLOCK.sub(" ", prompt).split())
    return clean, tuple(rules), warnings


def _rule(name: str, value: str, retry_after: str | None) -> Rule:
    if name == "fail":
        return Rule("fail", failure=value or "provider_error")
    if name == "latency":
        low, _, high = value.partition("..")
        return Rule("latency", seconds=duration(low), seconds_max=duration(high) if high else None)
    if name == "stall":
        return Rule("stall", state=value or "running")
    if name == "images":
        return Rule("fewer_images", images=int(value))
    if name == "error":
        return Rule("error", status=int(value), retry_after=duration(retry_after) if retry_after else None)
    if name == "disconnect":
        return Rule("disconnect", disconnect=value or "reset")
    if name == "webhook":
        kind, _, delay = value.partition(":")
        return Rule("webhook", webhook=kind, seconds=duration(delay) if delay else 0.0)
    raise FaultError("unknown directive; use fail, latency, stall, images, error, disconnect or webhook")


def duration(text: str) -> float:
    match = DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 2s, 500ms or 1m")
    return float(match.group(1)) * UNITS[match.group(2)]
