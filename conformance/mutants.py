"""The mutation suite: broken variants of the reference clients that the harness must fail.

Mutation testing (mutmut, Stryker, PIT) proves a test suite by breaking the code it tests: a suite that still
passes a broken variant, a mutant that *survives*, cannot see that defect. Here the code under test is a client
and the suite is the harness. Each mutant below plants one defect a real client could have into the reference
client of `clients/`, as a small patch applied while one run lasts, and names the check that owns the defect
and the cases of that check that must catch it. `seedream-conformance mutate --provider P` first runs the
unbroken client on those cases (the baseline: a case it already fails cannot kill a mutant, and fails the
suite), then each mutant that applies to P, one owning case per run until one fails: the mutant is killed by
that case. The mutation score is the share of mutants killed; the suite passes at 100 % with a clean baseline.

The patches work on the client classes, so mutants run one at a time in this process, never in parallel.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import clients.replicate
import clients.wiro
from clients._base import Call, Job, Provider, decode
from clients._errors import GenerationFailed, InvalidSignature
from clients._polling import Deadline, PollSchedule
from clients._retry import Reply, RetryPolicy, Safety
from clients.ark import ArkProvider
from clients.evolink import EvoLinkProvider
from clients.fal import FalProvider
from clients.replicate import ReplicateProvider
from clients.runware import RunwareProvider
from clients.wiro import WiroProvider

from .adapters import AdapterSpec
from .checks import CHECKS
from .events import CaseFinished, CaseResult, RunFinished
from .handle import InProcess
from .profiles import PROVIDERS, load_profile
from .runner import RunConfig, run

Patch = Callable[[str], contextlib.AbstractContextManager[None]]
CLASSES: dict[str, type[Provider]] = {
    "runware": RunwareProvider,
    "wiro": WiroProvider,
    "evolink": EvoLinkProvider,
    "fal": FalProvider,
    "replicate": ReplicateProvider,
    "ark": ArkProvider,
}
ALL = tuple(PROVIDERS)
# The surfaces whose clients poll (a profile without polling, such as Ark's synchronous API, says `polls = False`).
POLLED = tuple(provider for provider in PROVIDERS if getattr(load_profile(provider), "polls", True))
# How often the tight-polling mutant polls.
TIGHT_POLL = 0.01


@dataclass(frozen=True)
class Mutant:
    id: str
    defect: str
    providers: tuple[str, ...]
    check: str
    # Cases of `check` that must catch the defect (shell patterns, as `--only` takes them).
    cases: tuple[str, ...]
    how: str
    patch: Patch = field(repr=False, compare=False)

    @property
    def only(self) -> tuple[str, ...]:
        return tuple(f"{self.check}/{case}" for case in self.cases)


@dataclass
class Outcome:
    mutant: Mutant
    provider: str
    killed_by: CaseResult | None = None
    skipped: list[CaseResult] = field(default_factory=list)
    error: str | None = None
    duration: float = 0.0

    @property
    def killed(self) -> bool:
        return self.killed_by is not None

    def describe(self) -> str:
        if self.killed_by is not None:
            return f"{self.killed_by.check}/{self.killed_by.case}: {_one_line(self.killed_by.message)}"
        if self.error is not None:
            return f"the run broke: {self.error}"
        if self.skipped:
            return "its cases were skipped: " + "; ".join(f"{r.check}/{r.case}: {r.message}" for r in self.skipped)
        return "every owning case passed"


# --- the patches ---------------------------------------------------------------------------------------------


def _wrap(owner: Any, name: str, mutate: Callable[[Any], Any]) -> contextlib.AbstractContextManager[Any]:
    """Replace `owner.name` with `mutate(original)` while the context lasts."""
    return mock.patch.object(owner, name, mutate(getattr(owner, name)))


def _each(patch: Callable[[type[Provider]], contextlib.AbstractContextManager[Any]]) -> Patch:
    """The same patch, applied to the provider class of whichever surface runs."""
    return lambda provider: patch(CLASSES[provider])


def _only(patch: Callable[[], contextlib.AbstractContextManager[Any]]) -> Patch:
    """A patch of one provider's client (the mutant lists that provider alone)."""
    return lambda provider: patch()


def _duplicate_create(provider: str) -> contextlib.AbstractContextManager[Any]:
    return _fresh_task_uuid_on_retry() if provider == "runware" else _create_retried_like_a_read(CLASSES[provider])


def _create_retried_like_a_read(cls: type[Provider]) -> contextlib.AbstractContextManager[Any]:
    # The create is marked safe to repeat, so a 5xx or a cut connection after the provider accepted it sends it again.
    return _wrap(cls, "create", lambda create: lambda self, request: replace(create(self, request), safety=Safety.SAFE))


def _fresh_task_uuid_on_retry() -> contextlib.AbstractContextManager[Any]:
    # Runware: every attempt after the first goes out under a new taskUUID, so the provider cannot see a repeat.
    sent: list[Call] = []  # keeps each call alive, so that identity tells a retry from a new call

    def mutate(build: Any) -> Any:
        def mutated(self: Provider, call: Call, timeout: float) -> Any:
            task = call.json[0] if isinstance(call.json, list) and call.json else None
            if isinstance(task, dict) and task.get("taskType") == "imageInference":
                if any(earlier is call for earlier in sent):
                    call = replace(call, json=[{**task, "taskUUID": str(uuid.uuid4())}])
                else:
                    sent.append(call)
            return build(self, call, timeout)

        return mutated

    return _wrap(RunwareProvider, "build", mutate)


def _without(
    fields: Sequence[str], nested: str | None = None
) -> Callable[[type[Provider]], contextlib.AbstractContextManager[Any]]:
    """The create leaves out `fields` of the caller's request (of its `nested` object, for Replicate's input)."""

    def leave_out(given: Mapping[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in given.items() if name not in fields}

    def strip(request: Mapping[str, Any]) -> dict[str, Any]:
        inner = request.get(nested) if nested is not None else None
        if nested is not None and isinstance(inner, Mapping):
            return {**request, nested: leave_out(inner)}
        return leave_out(request)

    def patch(cls: type[Provider]) -> contextlib.AbstractContextManager[Any]:
        return _wrap(cls, "create", lambda create: lambda self, request: create(self, strip(request)))

    return patch


SIZE_FIELDS: dict[str, Callable[[type[Provider]], contextlib.AbstractContextManager[Any]]] = {
    "runware": _without(("width", "height", "resolution")),
    "wiro": _without(("size",)),
    "evolink": _without(("size",)),
    "replicate": _without(("size", "aspect_ratio", "width", "height"), nested="input"),
    "ark": _without(("size",)),
    "fal": _without(("image_size",), nested="input"),
}


# Where a client hands back a finished job's images: `progress`, but fal reads them with a request of their own.
FINISHING = {"fal": "result"}


def _finishing(patch: Callable[[type[Provider], str], contextlib.AbstractContextManager[Any]]) -> Patch:
    """A patch of the method that hands back the images (and raises GenerationFailed) for whichever surface runs."""
    return lambda provider: patch(CLASSES[provider], FINISHING.get(provider, "progress"))


def _first_image_only(cls: type[Provider], method: str) -> contextlib.AbstractContextManager[Any]:
    def mutate(progress: Any) -> Any:
        def mutated(self: Provider, reply: Reply, job: Job) -> Any:
            images = progress(self, reply, job)
            return images[:1] if images else images

        return mutated

    return _wrap(cls, method, mutate)


def _one_more_poll(cls: type[Provider]) -> contextlib.AbstractContextManager[Any]:
    # Seeing the job finished, the client polls once more before it answers.
    finished: dict[str, Any] = {}

    def mutate(progress: Any) -> Any:
        def mutated(self: Provider, reply: Reply, job: Job) -> Any:
            if job.id in finished:
                return finished.pop(job.id)
            images = progress(self, reply, job)
            if images is not None:
                finished[job.id] = images
                return None
            return images

        return mutated

    return _wrap(cls, "progress", mutate)


def _crash_on_failed_job(cls: type[Provider], method: str) -> contextlib.AbstractContextManager[Any]:
    def mutate(progress: Any) -> Any:
        def mutated(self: Provider, reply: Reply, job: Job) -> Any:
            try:
                return progress(self, reply, job)
            except GenerationFailed as failure:
                raise RuntimeError(f"unexpected job status: {failure.body!r:.80}") from None

        return mutated

    return _wrap(cls, method, mutate)


def _crash_on_error_reply(cls: type[Provider]) -> contextlib.AbstractContextManager[Any]:
    def crash(self: Provider, response: Any, body: Any, **details: Any) -> Any:
        raise RuntimeError(f"HTTP {response.status_code}")  # reads only the happy path

    return mock.patch.object(cls, "status_error", crash)


def _key_in_url(cls: type[Provider]) -> contextlib.AbstractContextManager[Any]:
    def mutate(build: Any) -> Any:
        def mutated(self: Provider, call: Call, timeout: float) -> Any:
            joiner = "&" if "?" in call.url else "?"
            return build(self, replace(call, url=f"{call.url}{joiner}key={quote(self.api_key, safe='')}"), timeout)

        return mutated

    return _wrap(cls, "build", mutate)


def _key_in_webhook_url() -> contextlib.AbstractContextManager[Any]:
    def mutate(create: Any) -> Any:
        def mutated(self: Provider, request: Mapping[str, Any]) -> Any:
            if isinstance(request.get("webhook"), str):
                request = {**request, "webhook": f"{request['webhook']}?token={quote(self.api_key, safe='')}"}
            return create(self, request)

        return mutated

    return _wrap(ReplicateProvider, "create", mutate)


def _wiro_pexit_as_number() -> contextlib.AbstractContextManager[Any]:
    # Wiro sends numbers as strings ("pexit": "0"); comparing with the number 0 calls every success a failure.
    def mutate(progress: Any) -> Any:
        def mutated(self: Provider, reply: Reply, job: Job) -> Any:
            images = progress(self, reply, job)
            task = decode(reply.response)["tasklist"][0]
            if images is not None and task.get("pexit") != 0:
                raise GenerationFailed(
                    f"the task exited with code {task.get('pexit')!r}", provider="wiro", job_id=job.id
                )
            return images

        return mutated

    return _wrap(WiroProvider, "progress", mutate)


REFERENCE_FIELDS: dict[str, Callable[[type[Provider]], contextlib.AbstractContextManager[Any]]] = {
    "runware": _without(("referenceImages", "inputs")),
    "wiro": _without(("inputImage",)),
    "evolink": _without(("image_urls",)),
    "replicate": _without(("image_input",), nested="input"),
    "ark": _without(("image",)),
    "fal": _without(("image_urls",), nested="input"),
}


def _embellished_prompt(field: str, nested: str | None = None) -> Patch:
    """The create adds words of its own to the caller's prompt (in Replicate's `input`)."""

    def embellish(request: Mapping[str, Any]) -> dict[str, Any]:
        if nested is not None and isinstance(request.get(nested), Mapping):
            return {**request, nested: embellish(request[nested])}
        prompt = request.get(field)
        return {**request, field: f"{prompt}, highly detailed"} if isinstance(prompt, str) else dict(request)

    def patch(provider: str) -> contextlib.AbstractContextManager[Any]:
        create = CLASSES[provider].create
        return mock.patch.object(CLASSES[provider], "create", lambda self, request: create(self, embellish(request)))

    return patch


PROMPT_FIELDS: dict[str, Patch] = {
    "runware": _embellished_prompt("positivePrompt"),
    "wiro": _embellished_prompt("prompt"),
    "evolink": _embellished_prompt("prompt"),
    "replicate": _embellished_prompt("prompt", nested="input"),
    "ark": _embellished_prompt("prompt"),
    "fal": _embellished_prompt("prompt", nested="input"),
}


def _swapped_wiro_signature() -> contextlib.AbstractContextManager[Any]:
    # Wiro keys its HMAC with the API key over secret + nonce; the natural slip keys it with the secret.
    return _wrap(clients.wiro, "sign", lambda sign: lambda key, secret, nonce: sign(secret, key, nonce))


SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _verifier(mutate: Callable[[Any], Any]) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    return lambda: _wrap(clients.replicate, "verify_webhook", mutate)


def _accept_unsigned(verify: Any) -> Any:
    def mutated(headers: Mapping[str, str], body: bytes, secret: str, **options: Any) -> Any:
        if not any(name.lower() == "webhook-signature" for name in headers):
            return json.loads(body)  # nothing to check, so nothing wrong
        return verify(headers, body, secret, **options)

    return mutated


def _never_compare(verify: Any) -> Any:
    def mutated(headers: Mapping[str, str], body: bytes, secret: str, **options: Any) -> Any:
        present = {name.lower() for name in headers}
        missing = [name for name in SIGNATURE_HEADERS if name not in present]
        if missing:
            raise InvalidSignature(f"missing header {missing[0]}", provider="replicate")
        return json.loads(body)  # the headers are there; the signature is never compared

    return mutated


def _no_tolerance(verify: Any) -> Any:
    def mutated(headers: Mapping[str, str], body: bytes, secret: str, **options: Any) -> Any:
        return verify(headers, body, secret, **{**options, "tolerance": math.inf})

    return mutated


def _newest_only(verify: Any) -> Any:
    newest = [0]

    def mutated(headers: Mapping[str, str], body: bytes, secret: str, **options: Any) -> Any:
        lowered = {name.lower(): value for name, value in headers.items()}
        sent_at = int(lowered.get("webhook-timestamp") or 0)
        if sent_at < newest[0]:
            raise InvalidSignature("older than a delivery already accepted: a replay", provider="replicate")
        payload = verify(headers, body, secret, **options)
        newest[0] = sent_at
        return payload

    return mutated


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "duplicate-create",
        "re-sends a create after an ambiguous 5xx or a cut connection (Runware: under a fresh taskUUID)",
        ALL,
        "resilience",
        ("ambiguous_create", "ambiguous_drop"),
        "the create's Call is marked SAFE (retried on 5xx and after a send); Runware's build gives each retry a new "
        "taskUUID",
        _duplicate_create,
    ),
    Mutant(
        "drop-seed",
        "drops the caller's seed",
        ("runware", "ark"),
        "results",
        ("valid-*",),
        "the create removes `seed` (RunwareProvider from the task, ArkProvider from the body)",
        _each(_without(("seed",))),
    ),
    Mutant(
        "drop-size",
        "drops the caller's size",
        ALL,
        "results",
        ("valid-*",),
        "the create removes the size fields (Runware width/height/resolution, Wiro, EvoLink and Ark size, "
        "Replicate size/aspect_ratio/width/height)",
        lambda provider: SIZE_FIELDS[provider](CLASSES[provider]),
    ),
    Mutant(
        "drop-quality",
        "drops the caller's output quality",
        ("runware",),
        "results",
        ("valid-*",),
        "RunwareProvider.create removes `outputQuality` from the task",
        _each(_without(("outputQuality",))),
    ),
    Mutant(
        "drop-references",
        "drops the caller's reference images",
        ALL,
        "results",
        ("valid-*",),
        "the create removes the references (Runware referenceImages and inputs, Wiro inputImage, EvoLink "
        "image_urls, Replicate image_input, Ark image)",
        lambda provider: REFERENCE_FIELDS[provider](CLASSES[provider]),
    ),
    Mutant(
        "embellish-prompt",
        "adds words of its own to the caller's prompt",
        ALL,
        "results",
        ("valid-*",),
        "the create appends ', highly detailed' to the prompt",
        lambda provider: PROMPT_FIELDS[provider](provider),
    ),
    Mutant(
        "first-image-only",
        "returns only the first image",
        ALL,
        "results",
        ("valid-*",),
        "Provider.progress (fal: FalProvider.result) keeps the first image of a finished job",
        _finishing(_first_image_only),
    ),
    Mutant(
        "ignore-retry-after",
        "ignores Retry-After",
        ALL,
        "resilience",
        ("rate_limit",),
        "RetryPolicy.delay drops the provider's hint and backs off from 0.5 s",
        _each(
            lambda cls: _wrap(RetryPolicy, "delay", lambda delay: lambda self, n, hint, rng: delay(self, n, None, rng))
        ),
    ),
    Mutant(
        "tight-polling",
        "polls in a tight loop",
        POLLED,
        "lifecycle",
        ("polling",),
        f"PollSchedule.next_delay waits at most {TIGHT_POLL * 1000:.0f} ms",
        _each(lambda cls: _wrap(PollSchedule, "next_delay", lambda wait: lambda self: min(wait(self), TIGHT_POLL))),
    ),
    Mutant(
        "poll-after-terminal",
        "keeps polling after a terminal state",
        POLLED,
        "lifecycle",
        ("polling",),
        "Provider.progress, shown the job finished, asks for one more poll before it answers",
        _each(_one_more_poll),
    ),
    Mutant(
        "ignore-timeout",
        "ignores its timeout",
        ALL,
        "resilience",
        ("stalled_job",),
        "Deadline.remaining is always infinite, so polling never gives up",
        _each(lambda cls: mock.patch.object(Deadline, "remaining", lambda self: math.inf)),
    ),
    Mutant(
        "crash-on-failed-job",
        "crashes on a failed job",
        ALL,
        "resilience",
        ("failed_job",),
        "Provider.progress (fal: FalProvider.result) raises RuntimeError where it raised GenerationFailed",
        _finishing(_crash_on_failed_job),
    ),
    Mutant(
        "crash-on-error-reply",
        "crashes on an error reply",
        ALL,
        "limits",
        ("invalid-*",),
        "Provider.status_error raises RuntimeError instead of building the typed error",
        _each(_crash_on_error_reply),
    ),
    Mutant(
        "key-in-url",
        "sends the API key in the URL",
        ALL,
        "wire",
        ("valid-*",),
        "Provider.build appends ?key=<API key> to every request URL",
        _each(_key_in_url),
    ),
    Mutant(
        "wiro-wrong-signature",
        "signs its Wiro requests with the key and the secret swapped",
        ("wiro",),
        "wire",
        ("valid-*",),
        "clients.wiro.sign keys the HMAC with the secret, over the API key and the nonce",
        _only(_swapped_wiro_signature),
    ),
    Mutant(
        "key-in-webhook-url",
        "sends the API key to its webhook URL",
        ("replicate",),
        "lifecycle",
        ("webhooks",),
        "ReplicateProvider.create appends ?token=<API key> to the caller's webhook URL",
        _only(_key_in_webhook_url),
    ),
    Mutant(
        "wiro-strings-as-numbers",
        "reads Wiro's numbers-as-strings as numbers",
        ("wiro",),
        "results",
        ("valid-*",),
        'WiroProvider.progress compares pexit with the number 0, so "0" (success) reads as a failure',
        _only(_wiro_pexit_as_number),
    ),
    Mutant(
        "accept-forged-webhook",
        "accepts a webhook whose signature does not match",
        ("replicate",),
        "lifecycle",
        ("forged_webhook",),
        "verify_webhook checks that the signature headers are present, never compares the signature",
        _only(_verifier(_never_compare)),
    ),
    Mutant(
        "accept-unsigned-webhook",
        "accepts a webhook with no signature headers",
        ("replicate",),
        "lifecycle",
        ("unsigned_webhook",),
        "verify_webhook accepts a delivery that has no webhook-signature header",
        _only(_verifier(_accept_unsigned)),
    ),
    Mutant(
        "accept-stale-webhook",
        "accepts a replayed webhook signed outside the tolerance",
        ("replicate",),
        "lifecycle",
        ("stale_webhook",),
        "verify_webhook runs with an infinite timestamp tolerance",
        _only(_verifier(_no_tolerance)),
    ),
    Mutant(
        "refuse-reordered-webhook",
        "refuses a webhook that arrives after a newer one",
        ("replicate",),
        "lifecycle",
        ("reordered_webhook",),
        "verify_webhook refuses a delivery signed before the newest it accepted",
        _only(_verifier(_newest_only)),
    ),
)


# --- running them ---------------------------------------------------------------------------------------------


def applicable(provider: str, chosen: Sequence[str] = ()) -> list[Mutant]:
    """The mutants that break `provider`'s reference client (those named in `chosen`, when given)."""
    return [m for m in MUTANTS if provider in m.providers and (not chosen or m.id in chosen)]


@dataclass
class ProviderRun:
    provider: str
    baseline: list[CaseResult] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    duration: float = 0.0

    @property
    def baseline_failures(self) -> list[CaseResult]:
        return [result for result in self.baseline if result.status == "failed"]

    @property
    def killed(self) -> int:
        return sum(outcome.killed for outcome in self.outcomes)

    @property
    def passed(self) -> bool:
        return not self.baseline_failures and self.killed == len(self.outcomes)

    def score(self) -> str:
        total = len(self.outcomes)
        share = f"{100 * self.killed / total:.0f} %" if total else "n/a"
        failing = len(self.baseline_failures)
        baseline = f"; the unbroken client fails {failing} owning case(s)" if failing else ""
        return f"{self.provider}: {self.killed}/{total} mutants killed ({share}) in {self.duration:.0f} s{baseline}"


async def mutate(
    provider: str,
    chosen: Sequence[str] = (),
    *,
    seed: int = 0,
    baseline: bool = True,
    report: Callable[[Outcome], None] | None = None,
    report_baseline: Callable[[list[CaseResult]], None] | None = None,
) -> ProviderRun:
    """Run the baseline, then every applicable mutant, against one emulator kept for the whole provider;
    `report_baseline` hears the baseline's failures before the mutants run, `report` each mutant's outcome."""
    started = time.monotonic()
    mutants = applicable(provider, chosen)
    result = ProviderRun(provider)
    emulator = InProcess.start(timing="fast", seed=seed)
    try:
        if baseline and mutants:
            checks = tuple(check for check in CHECKS if any(m.check == check for m in mutants))
            only = tuple(dict.fromkeys(pattern for m in mutants for pattern in m.only))
            result.baseline = await _results(_config(provider, checks, only, seed), emulator)
        if report_baseline is not None and result.baseline_failures:
            report_baseline(result.baseline_failures)
        # A case the unbroken client already fails proves nothing about a mutant: it cannot kill one.
        failing = {(case.check, case.case) for case in result.baseline_failures}
        for mutant in mutants:
            outcome = await _kill(mutant, provider, seed, emulator, failing)
            result.outcomes.append(outcome)
            if report is not None:
                report(outcome)
    finally:
        emulator.close()
    result.duration = time.monotonic() - started
    return result


async def _kill(
    mutant: Mutant, provider: str, seed: int, emulator: InProcess, failing: set[tuple[str, str]]
) -> Outcome:
    outcome = Outcome(mutant, provider)
    started = time.monotonic()
    try:
        with mutant.patch(provider):
            for step in _steps(mutant, provider, seed):
                config = _config(provider, (mutant.check,), (step,), seed)
                async with contextlib.aclosing(run(config, emulator)) as events:
                    async for event in events:
                        if not isinstance(event, CaseFinished) or (event.result.check, event.result.case) in failing:
                            continue
                        if event.result.status == "failed":
                            outcome.killed_by = event.result
                            break
                        if event.result.status == "skipped":
                            outcome.skipped.append(event.result)
                if outcome.killed:
                    break
    except Exception as error:
        outcome.error = f"{type(error).__name__}: {error}"
    outcome.duration = time.monotonic() - started
    return outcome


def _steps(mutant: Mutant, provider: str, seed: int) -> list[str]:
    """The mutant's owning cases one by one where the profile can name them, in the harness's order: `wire` and
    `results` run every case they are given before judging any, so one case per run is what lets a mutant stop
    at its first failing case."""
    profile = load_profile(provider)
    cases = [*profile.valid_cases(seed, 0), *profile.invalid_cases(seed, 0)]
    named = [f"{mutant.check}/{case.id}" for case in cases]
    steps: list[str] = []
    for pattern in mutant.only:
        steps += [case for case in named if fnmatch.fnmatchcase(case, pattern)] or [pattern]
    return list(dict.fromkeys(steps))


async def _results(config: RunConfig, emulator: InProcess) -> list[CaseResult]:
    async for event in run(config, emulator):
        if isinstance(event, RunFinished):
            return list(event.results)
    return []


def _config(provider: str, checks: Sequence[str], only: Sequence[str], seed: int) -> RunConfig:
    return RunConfig(provider, AdapterSpec("reference"), tuple(checks), examples=0, seed=seed, only=tuple(only))


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- the documentation table ----------------------------------------------------------------------------------

BEGIN = "<!-- mutation suite: generated by `seedream-conformance mutate --provider all --doc PATH` -->"
END = "<!-- end of mutation suite -->"


def render(runs: Sequence[ProviderRun] = (), seed: int = 0) -> str:
    """The mutation suite as a Markdown section: the mutants, and the case that killed each when `runs` ran."""
    by_provider = {run.provider: {outcome.mutant.id: outcome for outcome in run.outcomes} for run in runs}
    lines = [
        BEGIN,
        "## Mutation suite",
        "",
        (
            "The harness proves it catches broken clients: each mutant plants one defect into the reference client "
            "(`conformance/mutants.py`), and the check that owns the defect must fail it. `seedream-conformance "
            "mutate --provider P` runs the unbroken client on the owning cases first (it must pass them), then every "
            "mutant that applies to P, and exits 1 unless every one is killed; `tests/conformance/test_mutants.py` "
            "runs it for all four providers."
        ),
        "",
        "| mutant | defect | owning check: cases | how it is applied | " + " | ".join(PROVIDERS) + " |",
        "|---|---|---|---|" + "---|" * len(PROVIDERS),
    ]
    for mutant in MUTANTS:
        cells = [_cell(mutant, provider, by_provider.get(provider)) for provider in PROVIDERS]
        cases = ", ".join(f"`{case}`" for case in mutant.cases)
        row = [f"`{mutant.id}`", mutant.defect, f"`{mutant.check}`: {cases}", mutant.how, *cells]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    if runs:
        lines += ["", f"Mutation score, seed {seed}: " + "; ".join(run.score() for run in runs) + "."]
    lines += [END]
    return "\n".join(lines)


def _cell(mutant: Mutant, provider: str, outcomes: Mapping[str, Outcome] | None) -> str:
    if provider not in mutant.providers:
        return "—"
    outcome = (outcomes or {}).get(mutant.id)
    if outcome is None:
        return "applies"
    if outcome.killed_by is not None:
        return f"✅ `{outcome.killed_by.check}/{outcome.killed_by.case}`"
    return "❌ survived"


def write_section(path: Path, section: str) -> None:
    """Put `section` into the page at `path`, replacing the one there (or appending it)."""
    page = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in page and END in page:
        head, rest = page.split(BEGIN, 1)
        page = head + section + rest.split(END, 1)[1]
    else:
        page = page.rstrip("\n") + ("\n\n" if page else "") + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


def section_of(page: str) -> str | None:
    """The mutation suite section of a page, if it has one."""
    if BEGIN not in page or END not in page:
        return None
    return BEGIN + page.split(BEGIN, 1)[1].split(END, 1)[0] + END


__all__ = ["MUTANTS", "Mutant", "Outcome", "ProviderRun", "applicable", "mutate", "render", "write_section"]
