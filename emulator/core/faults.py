"""Fault rules: what goes wrong, for which requests, how often. Deterministic for a given seed.

A rule pairs a `Match` (surface, route, model, job id, prompt substring, API key) with one action.
Actions act at one of three points of a request's life:

- request:  `latency` (fixed or uniform range), `error` (the surface's own error body, an HTTP
            status, optional Retry-After), `disconnect` (connection reset, or a WebSocket closed
            cleanly or abruptly);
- job:      `fail` (the surface's failure shape for a failure kind such as content_policy),
            `stall` (stays queued or running), `fewer_images`;
- reply:    `ambiguous` (the request is served in full, job created, but the client gets a gateway's 5xx
            instead of the reply, or a reset connection with `drop`: the ambiguous failure after
            which a create must not simply be sent again);
- delivery: `webhook` (drop, delay, duplicate, or deliver out of order).

A rule fires on every match, on the first `times` matches, only on the `nth` match, or with a
`probability` drawn from a generator seeded by the emulator's seed, so a seed replays the same
timeline. Matching and counting happen synchronously, so concurrent requests count exactly.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from .jobs import Failure, Plan, State

Phase = Literal["request", "job", "reply", "delivery"]
PHASES: dict[str, Phase] = {
    "latency": "request",
    "error": "request",
    "disconnect": "request",
    "fail": "job",
    "stall": "job",
    "fewer_images": "job",
    "ambiguous": "reply",
    "webhook": "delivery",
}
DISCONNECTS = ("reset", "close", "abrupt")
# Bounds that keep every value representable downstream (clock arithmetic, Retry-After headers, timestamps):
# a rule beyond them is refused when it is added, never met later as a 500.
MAX_SECONDS = 3600.0
MAX_RETRY_AFTER = 86_400.0
MAX_COUNT = 1_000_000
NUMBERS: dict[str, tuple[float, float]] = {
    "seconds": (0.0, MAX_SECONDS),
    "seconds_max": (0.0, MAX_SECONDS),
    "retry_after": (0.0, MAX_RETRY_AFTER),
    "probability": (0.0, 1.0),
}
COUNTS: dict[str, tuple[int, int]] = {
    "status": (100, 599),
    "images": (0, MAX_COUNT),
    "times": (1, MAX_COUNT),
    "nth": (1, MAX_COUNT),
}
WEBHOOK_FAULTS = ("drop", "delay", "duplicate", "reorder")


class FaultError(ValueError):
    """A rule that cannot be applied as written."""


@dataclass(frozen=True)
class Context:
    """What is known about a request when a fault point is reached."""

    surface: str
    route: str = ""
    model: str | None = None
    job: str | None = None
    prompt: str | None = None
    api_key: str | None = None
    transport: str = "http"
    directives: tuple[Rule, ...] = ()

    def with_job(self, job: str) -> Context:
        return replace(self, job=job)


@dataclass(frozen=True)
class Match:
    surface: str | None = None
    route: str | None = None
    model: str | None = None
    job: str | None = None
    prompt: str | None = None
    api_key: str | None = None

    def matches(self, context: Context) -> bool:
        return (
            (self.surface is None or self.surface == context.surface)
            and (self.route is None or fnmatch.fnmatchcase(context.route, self.route))
            and (self.model is None or self.model == context.model)
            and (self.job is None or self.job == context.job)
            and (self.prompt is None or (context.prompt is not None and self.prompt in context.prompt))
            and (self.api_key is None or self.api_key == context.api_key)
        )


@dataclass
class Rule:
    action: str
    match: Match = field(default_factory=Match)
    id: str = ""
    # request: latency / error / disconnect
    seconds: float = 0.0
    seconds_max: float | None = None
    status: int = 500
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    disconnect: str = "reset"
    # job: fail / stall / fewer_images
    failure: str = "provider_error"
    state: str = "running"
    images: int = 0
    # reply: ambiguous (status is the gateway's 5xx unless `drop` resets the connection)
    drop: bool = False
    # delivery: webhook
    webhook: str = "drop"
    # firing policy
    times: int | None = None
    nth: int | None = None
    probability: float | None = None
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        self._check_numbers()
        if self.action not in PHASES:
            raise FaultError(f"unknown action {self.action!r}; choose one of {', '.join(PHASES)}")
        if self.action == "disconnect" and self.disconnect not in DISCONNECTS:
            raise FaultError(f"disconnect must be one of {', '.join(DISCONNECTS)}")
        if self.action == "webhook" and self.webhook not in WEBHOOK_FAULTS:
            raise FaultError(f"webhook must be one of {', '.join(WEBHOOK_FAULTS)}")
        if self.action == "stall" and self.state not in (State.QUEUED, State.RUNNING):
            raise FaultError("stall state must be queued or running")
        if self.action == "ambiguous" and not 500 <= self.status <= 599:
            raise FaultError("an ambiguous reply's status must be a server error (500-599)")
        if self.action == "error" and not 400 <= self.status <= 599:
            raise FaultError("error status must be an HTTP error status (400-599)")
        if self.seconds_max is not None and self.seconds_max < self.seconds:
            raise FaultError("seconds_max must be at least seconds")
        for name in ("code", "message"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > 1000):
                raise FaultError(f"{name} must be a string of at most 1000 characters")

    def _check_numbers(self) -> None:
        """Every number finite, of its type and within its bound, named in the error when not."""
        for name, (low, high) in NUMBERS.items():
            value = getattr(self, name)
            if value is None and name != "seconds":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise FaultError(f"{name} must be a finite number between {low:g} and {high:g}; got {value!r}")
            if not low <= value <= high:
                raise FaultError(f"{name} must be between {low:g} and {high:g}; got {value!r}")
        for name, (low, high) in COUNTS.items():
            value = getattr(self, name)
            if value is None and name != "status" and name != "images":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise FaultError(f"{name} must be a whole number; got {value!r}")
            if not low <= value <= high:
                raise FaultError(f"{name} must be between {low} and {high}; got {value!r}")

    @property
    def phase(self) -> Phase:
        return PHASES[self.action]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["match"] = {key: value for key, value in data["match"].items() if value is not None}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        """A rule from JSON/TOML: match fields may sit under "match" or at the top level."""
        names = {f.name for f in fields(cls)} - {"match", "matched", "fired"}
        match_names = {f.name for f in fields(Match)}
        unknown = set(data) - names - match_names - {"match"}
        if unknown:
            raise FaultError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        match = dict(data.get("match") or {})
        match.update({key: data[key] for key in match_names if key in data})
        if set(match) - match_names:
            raise FaultError(f"unknown match fields: {', '.join(sorted(set(match) - match_names))}")
        try:
            return cls(match=Match(**match), **{key: data[key] for key in names if key in data})
        except TypeError as exc:
            raise FaultError(str(exc)) from None


@dataclass
class Decision:
    """The request-phase outcome: wait this long, then answer with an error or disconnect, or go on."""

    latency: float = 0.0
    error: Rule | None = None
    disconnect: Rule | None = None


class FaultEngine:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        self._rules: dict[str, Rule] = {}
        self._ids = itertools.count(1)

    def add(self, rule: Rule | Mapping[str, Any]) -> Rule:
        made = rule if isinstance(rule, Rule) else Rule.from_dict(rule)
        made.id = made.id or f"fault_{next(self._ids)}"
        self._rules[made.id] = made
        return made

    def remove(self, rule_id: str) -> bool:
        return self._rules.pop(rule_id, None) is not None

    def rules(self) -> list[Rule]:
        return list(self._rules.values())

    def any_rule(self, action: str) -> bool:
        """Whether a rule added to the engine (not a prompt's directive) does `action`; asked on every request."""
        return bool(self._rules) and any(rule.action == action for rule in self._rules.values())

    def reset(self) -> None:
        self._rules.clear()
        self._rng = random.Random(self._seed)
        self._ids = itertools.count(1)

    def fire(self, phase: Phase, context: Context) -> list[Rule]:
        """The rules that fire at this point for this context (directives first); counts every match."""
        fired = [rule for rule in context.directives if rule.phase == phase] if context.directives else []
        for rule in self._rules.values():
            if rule.phase == phase and rule.match.matches(context) and self._fires(rule):
                fired.append(rule)
        return fired

    def request(self, context: Context) -> Decision:
        decision = Decision()
        for rule in self.fire("request", context):
            if rule.action == "latency":
                decision.latency += self._seconds(rule)
            elif rule.action == "error" and decision.error is None and decision.disconnect is None:
                decision.error = rule
            elif rule.action == "disconnect" and decision.error is None and decision.disconnect is None:
                decision.disconnect = rule
        return decision

    def plan(self, plan: Plan, context: Context) -> Plan:
        """The plan of a new job with the job-phase faults that fire for it applied."""
        for rule in self.fire("job", context):
            if rule.action == "fail":
                failure = Failure(rule.failure, rule.message or "")
                plan = replace(plan, failure=failure, failed_after=min(rule.images, len(plan.output_offsets)))
            elif rule.action == "stall":
                plan = replace(plan, stall_in=State(rule.state))
            elif rule.action == "fewer_images":
                plan = replace(plan, output_offsets=plan.output_offsets[: rule.images])
        return plan

    def reply(self, context: Context) -> Rule | None:
        """The `ambiguous` rule that replaces this accepted request's reply, if one fires."""
        fired = self.fire("reply", context)
        return fired[0] if fired else None

    def delivery(self, context: Context) -> list[Rule]:
        return self.fire("delivery", context)

    def _fires(self, rule: Rule) -> bool:
        rule.matched += 1
        if rule.nth is not None and rule.matched != rule.nth:
            return False
        if rule.times is not None and rule.fired >= rule.times:
            return False
        if rule.probability is not None and self._rng.random() >= rule.probability:
            return False
        rule.fired += 1
        return True

    def _seconds(self, rule: Rule) -> float:
        if rule.seconds_max is None:
            return rule.seconds
        return self._rng.uniform(rule.seconds, rule.seconds_max)
