"""What the harness needs to know about one provider, and nothing about the engine.

A profile turns the provider's contract into test material: valid requests with the images they
must produce, out-of-contract requests, fault scenarios, and how to recognise polls in recorded
traffic. The engine loads profiles by name (`load_profile`) and never imports one directly.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from PIL import Image

from contracts.boundaries import Boundary, patched

from ..adapters.base import WEBHOOKS, WEBSOCKET
from ..handle import EmulatorHandle
from ..recorder import Exchange
from ..webhooks import WebhookSigning

PROMPTS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=80),
    st.sampled_from(
        ["一只在雪中的红狐狸", "東京の夜景、ネオン", "a lighthouse at dusk 🌅", "Ünïcödé façade, crème brûlée"]
    ),
)
BOUNDARY_PROMPT = "x" * 2000


Wrap = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Expectation:
    """The images a valid request must come back with, as the placeholders' metadata proves.

    The optional fields are what the caller gave beyond size, format, prompt and model; each is compared with
    what the job ran with when it is set. A profile sets one only where the caller asked for a value and the
    provider records it in the placeholder's evidence metadata (`emulator.read_metadata`)."""

    count: int
    width: int
    height: int
    format: str
    prompt: str
    model: str
    # The seed of the job's first image (index 0); providers derive the seeds of later images from it.
    seed: int | None = None
    # The encoder quality asked for (JPEG and WEBP only: PNG is lossless, its quality proves nothing).
    quality: int | None = None
    # How many reference images the caller gave.
    reference_count: int | None = None


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    body: Mapping[str, Any]
    expect: Expectation | None = None
    violates: str = ""
    # How the provider refuses an invalid case: "request" (an error reply) or "task" (the job fails later).
    refused_by: str = "request"


@dataclass(frozen=True)
class Scenario:
    """A fault scenario for the resilience check."""

    id: str
    title: str
    rules: tuple[Mapping[str, Any], ...]
    outcomes: frozenset[str]
    fact: str
    images: int = 1
    timeout: float = 8.0
    retry_after: float | None = None
    capability: str | None = None
    min_images: int = 1
    # One call must leave at most this many jobs: more means the client re-sent a create the provider had
    # accepted (an ambiguous 5xx, a lost connection, a timeout), which production bills again.
    max_jobs: int | None = 1
    # A capability under which the fault cannot happen as written, and why; such clients skip the case.
    excludes: str | None = None
    excluded_because: str = ""


class Profile(Protocol):
    provider: str
    model: str
    signs_webhooks: bool

    def base_url(self, emulator: EmulatorHandle) -> str: ...

    def credentials(self) -> dict[str, str]: ...

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]: ...

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]: ...

    def valid_cases(self, seed: int, count: int) -> list[Case]: ...

    def invalid_cases(self, seed: int, count: int) -> list[Case]: ...

    def scenarios(self) -> list[Scenario]: ...

    def polled_job(self, exchange: Exchange) -> str | None:
        """The job a client request polls, if it is a poll."""
        ...

    def terminal_job(self, exchange: Exchange) -> str | None:
        """The job a reply (or server frame) shows finished, if it shows one."""
        ...

    # Optional hooks. Profiles are plain objects loaded by name, so one that lacks a hook gets the safe default
    # of the module-level function of the same name below; checks call those functions, never the attribute.
    #
    #   def webhook_signing(self, emulator: EmulatorHandle) -> WebhookSigning | None
    #       how the provider signs webhook deliveries (profiles with `signs_webhooks`); default None


def webhook_signing(profile: Profile, emulator: EmulatorHandle) -> WebhookSigning | None:
    """How `profile`'s provider signs webhooks, so the harness can sign a delivery at a timestamp of its choosing
    (the stale and re-ordered webhook cases); None, and those cases are skipped, when the profile cannot say."""
    hook = getattr(profile, "webhook_signing", None)
    signing: WebhookSigning | None = hook(emulator) if callable(hook) else None
    return signing


def sample(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """`count` examples of `strategy`, the same ones for the same seed."""
    if count <= 0:
        return []
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn[:count]


def mix(boundaries: list[Case], random: Callable[[int], list[Case]], count: int) -> list[Case]:
    """Every boundary case, then `count` cases drawn by hypothesis."""
    return boundaries + random(count)


@dataclass(frozen=True)
class Mutation:
    """One way to break a valid body: set the field at `path` to a value drawn from `values`."""

    path: tuple[str, ...]
    values: st.SearchStrategy[Any]
    violates: str


def mutated(good: Mapping[str, Any], mutations: list[Mutation], number: Numbered, seed: int, count: int) -> list[Case]:
    """`count` out-of-contract bodies: `good` with one field set to a value hypothesis draws outside its limit."""
    drawn = st.integers(0, len(mutations) - 1).flatmap(lambda index: st.tuples(st.just(index), mutations[index].values))
    cases = []
    for index, value in sample(drawn, count, seed):
        mutation = mutations[index]
        body = _set(good, mutation.path, value)
        shown = f"{len(value)} characters" if isinstance(value, str) and len(value) > 40 else repr(value)
        cases.append(Case(number(), f"{'.'.join(mutation.path)} = {shown}", body, violates=mutation.violates))
    return cases


def _set(body: Mapping[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    head, *rest = path
    copy = dict(body)
    copy[head] = _set(copy.get(head) or {}, tuple(rest), value) if rest else value
    return copy


def inside(boundary: Boundary) -> str:
    """The title of the case just inside a limit (tests find a limit's cases by it)."""
    return f"{boundary.name} (inside)"


def outside(boundary: Boundary) -> str:
    return f"{boundary.name} (outside)"


def outside_cases(
    boundaries: list[Boundary], base: Mapping[str, Any], number: Numbered, wrap: Wrap = dict
) -> list[Case]:
    """One case just outside each limit of the contract."""
    return [
        Case(number(), outside(b), wrap(b.apply(base, "outside")), violates=b.name, refused_by=b.refused_by)
        for b in boundaries
        if b.outside is not None
    ]


def drawn_outside(
    boundaries: list[Boundary], base: Mapping[str, Any], number: Numbered, seed: int, count: int, wrap: Wrap = dict
) -> list[Case]:
    """`count` cases drawn by hypothesis beyond the contract's limits: each sets one field past one limit."""
    chosen = [b for b in boundaries if b.outside is not None]
    if not chosen or count <= 0:
        return []
    drawn = st.integers(0, len(chosen) - 1).flatmap(lambda index: st.tuples(st.just(index), beyond(chosen[index])))
    cases = []
    for index, patch in sample(drawn, count, seed):
        boundary = chosen[index]
        shown = ", ".join(f"{path} = {_shown(value)}" for path, value in patch.items())
        body = wrap(patched(base, patch))
        cases.append(Case(number(), shown, body, violates=boundary.name, refused_by=boundary.refused_by))
    return cases


def beyond(boundary: Boundary) -> st.SearchStrategy[Mapping[str, Any]]:
    """Patches past `boundary` in its own direction; cross-field limits give their one outside patch."""
    assert boundary.outside is not None
    if len(boundary.outside) != 1 or not boundary.name.startswith("/") or len(boundary.name.split()) != 3:
        return st.just(boundary.outside)
    (path, first), bound = next(iter(boundary.outside.items())), boundary.bound
    keyword = boundary.keyword
    if keyword in ("maximum", "exclusiveMaximum") and isinstance(bound, int):
        values: st.SearchStrategy[Any] = st.integers(first, first + 10**6) | st.integers(min_value=first)
    elif keyword in ("minimum", "exclusiveMinimum") and isinstance(bound, int):
        values = st.integers(first - 10**6, first) | st.integers(max_value=first)
    elif keyword == "maxLength":
        values = st.integers(len(first), len(first) + 300).map(lambda size: first + "x" * (size - len(first)))
    elif keyword == "maxItems":
        values = st.integers(len(first), len(first) + 4).map(lambda size: [first[0]] * size)
    elif keyword == "enum":
        values = st.just(first) | enum_outside(list(bound))
    else:
        values = st.just(first)
    return values.map(lambda value: {path: value})


def enum_outside(choices: list[Any]) -> st.SearchStrategy[str]:
    """Text that is none of an enum's choices (letters only, so no other pattern of the field admits it)."""
    return st.text(st.characters(categories=("Ll", "Lu")), min_size=1, max_size=12).filter(
        lambda text: text not in choices
    )


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) > 40:
        return f"{len(value)} characters"
    if isinstance(value, list) and len(value) > 3:
        return f"{len(value)} items"
    return repr(value)


def stable_uuid(*parts: Any) -> str:
    """A UUID v4 that depends only on `parts`, so the same seed sends the same task ids."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def data_uri(width: int, height: int, fmt: str = "PNG") -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 90, 160)).save(out, fmt)
    media = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}[fmt]
    return f"data:image/{media};base64," + base64.b64encode(out.getvalue()).decode()


@dataclass
class Numbered:
    """Stable case ids: prefix-001, prefix-002, ..."""

    prefix: str
    next: int = field(default=1)

    def __call__(self) -> str:
        value = f"{self.prefix}-{self.next:03d}"
        self.next += 1
        return value


def polled_by_path(pattern: re.Pattern[str], exchange: Exchange) -> str | None:
    """The job id a GET poll names in its path (`pattern` has an `id` group)."""
    match = pattern.search(exchange.path) if exchange.method == "GET" else None
    return match.group("id") if match else None


def finished_by_status(exchange: Exchange, terminal: frozenset[str]) -> str | None:
    """The job id of a JSON reply whose `status` is terminal."""
    reply = exchange.response_json()
    if isinstance(reply, dict) and reply.get("status") in terminal:
        return str(reply.get("id"))
    return None


AMBIGUOUS_HTTP_ONLY = (
    "the client talks over a WebSocket, where a request has no reply status a gateway could replace: the ambiguous "
    "fault acts on HTTP replies only"
)


def common_scenarios(provider: str, create: Mapping[str, Any], poll: Mapping[str, Any], facts: str) -> list[Scenario]:
    """The resilience scenarios every surface shares; `create` and `poll` match its two kinds of request."""
    return [
        Scenario(
            "rate_limit",
            "429 with Retry-After: 1 on the create request",
            ({"action": "error", "status": 429, "retry_after": 1, "times": 1, **create},),
            frozenset({"success", "rate_limited"}),
            f"{facts}: 429 is transient; a client waits Retry-After before retrying",
            retry_after=1.0,
        ),
        Scenario(
            "server_error",
            "503 on the create request, once",
            ({"action": "error", "status": 503, "times": 1, **create},),
            frozenset({"success", "server_error"}),
            f"{facts}: 5xx are transient",
        ),
        Scenario(
            "ambiguous_create",
            "the create is accepted, then a gateway answers 502",
            ({"action": "ambiguous", "status": 502, "times": 1, **create},),
            frozenset({"success", "server_error"}),
            f"{facts}: a 5xx on a create may come after the provider accepted it; re-sending it bills twice, "
            "so a client recovers the first job or reports the error",
            excludes=WEBSOCKET,
            excluded_because=AMBIGUOUS_HTTP_ONLY,
        ),
        Scenario(
            "ambiguous_drop",
            "the create is accepted, then the connection drops before the reply",
            ({"action": "ambiguous", "drop": True, "times": 1, **create},),
            frozenset({"success", "connection"}),
            "a connection lost during a create leaves its fate unknown; re-sending it bills twice",
            excludes=WEBSOCKET,
            excluded_because=AMBIGUOUS_HTTP_ONLY,
        ),
        Scenario(
            "poll_error",
            "500 on the first poll",
            ({"action": "error", "status": 500, "times": 1, **poll},),
            frozenset({"success", "server_error"}),
            f"{facts}: polls are safe to retry",
        ),
        Scenario(
            "slow_response",
            "1.5 s of added latency on the create request",
            ({"action": "latency", "seconds": 1.5, "times": 1, **create},),
            frozenset({"success"}),
            "a slow provider within the client's timeout is not an error",
        ),
        Scenario(
            "failed_job",
            "the job fails its content check",
            ({"action": "fail", "failure": "content_policy", "surface": provider},),
            frozenset({"generation_failed"}),
            f"{facts}: a failed generation is reported as the job's error",
        ),
        Scenario(
            "stalled_job",
            "the job never leaves 'running'",
            ({"action": "stall", "state": "running", "surface": provider},),
            frozenset({"timeout"}),
            "a client must give up with a clear error rather than wait for ever",
            timeout=3.0,
        ),
        Scenario(
            "fewer_images",
            "2 images asked, 1 made",
            ({"action": "fewer_images", "images": 1, "surface": provider},),
            frozenset({"success", "generation_failed"}),
            "Seedream 'may generate fewer images than requested'",
            images=2,
        ),
        Scenario(
            "connection_reset",
            "the connection of the first poll is reset",
            ({"action": "disconnect", "disconnect": "reset", "times": 1, **poll},),
            frozenset({"success", "connection"}),
            "a lost connection on an idempotent poll is worth one retry",
        ),
        Scenario(
            "duplicate_webhooks",
            "every webhook is delivered twice",
            ({"action": "webhook", "webhook": "duplicate", "surface": provider},),
            frozenset({"success"}),
            "webhook receivers must tolerate at-least-once delivery",
            capability=WEBHOOKS,
        ),
    ]
