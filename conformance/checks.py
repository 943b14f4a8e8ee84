"""The checks. Each has a stable id, a rationale and the provider fact it enforces, and judges cases.

Checks know nothing about a provider: everything provider-specific comes from the session's profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from .adapters.base import (
    CANCEL,
    WEBHOOKS,
    CancelingAdapter,
    GenerateRequest,
    GenerateResult,
    WebhookAdapter,
    WebhookVerdict,
)
from .events import CaseResult, CheckInfo
from .profiles import Case, Scenario
from .recorder import Exchange
from .session import GRACE, Observation, Session, prompt_digest

POLL_GAP = 0.1
TERMINAL_SLACK = 0.02

WIRE = CheckInfo(
    "wire",
    "Every request meets the provider's contract",
    "A client must never send what the provider would reject: each request is validated against the "
    "JSON Schema and cross-field rules, and must authenticate (Wiro: a correct HMAC signature).",
    "contracts/<provider> (docs/contracts/<provider>.md)",
)
RESULTS = CheckInfo(
    "results",
    "The right images come back",
    "For generated valid inputs, boundaries included, the client returns exactly the images the provider "
    "made, of the requested size and format, proven by the metadata each placeholder carries.",
    "the provider's size table and count rules (contracts/<provider>/rules.json)",
)
LIFECYCLE = CheckInfo(
    "lifecycle",
    "Polls sanely, stops at the end, cancels, verifies webhooks",
    "A client polls until the job is terminal and not after, without hammering the provider; "
    "cancels cleanly where the provider can; and accepts genuine webhooks while rejecting forged ones.",
    "each provider's polling guidance and webhook signing (docs/<provider>.md)",
)
RESILIENCE = CheckInfo(
    "resilience",
    "Survives faults with a clear result",
    "Under 429s, 5xx, slow answers, failed and stalled jobs, fewer images, lost connections and duplicate "
    "webhooks, the client recovers or raises a typed error; it never hangs past its timeout or crashes "
    "with an unrelated exception, and honours Retry-After.",
    "fault rules of docs/control-api.md; each scenario names its provider fact",
)
LIMITS = CheckInfo(
    "limits",
    "Out-of-contract input is refused or reported",
    "For inputs outside the contract, the client refuses locally or surfaces the provider's validation "
    "error; it never silently sends, alters or swallows such a request.",
    "the documented limits (docs/contracts/<provider>.md)",
)
CHECKS: dict[str, CheckInfo] = {check.id: check for check in (WIRE, RESULTS, LIFECYCLE, RESILIENCE, LIMITS)}

Judge = Callable[[Session], AsyncIterator[CaseResult]]


async def wire(session: Session) -> AsyncIterator[CaseResult]:
    for case, seen in await session.valid_observations("wire"):
        problems = _contract_problems(seen)
        if not session.emulator.records_traffic and not seen.journal or session.emulator.records_traffic and not seen.requests:
            problems.append("no request of this case reached the emulator")
        yield _result(WIRE, case.id, case.title, problems, seen, details={"requests": len(seen.requests)})


async def results(session: Session) -> AsyncIterator[CaseResult]:
    for case, seen in await session.valid_observations("results"):
        assert case.expect is not None
        problems: list[str] = []
        images = seen.evidence
        if seen.hung:
            problems.append(f"{seen.result.failure.message if seen.result.failure else 'no answer'}: the client hangs")
        elif not seen.result.ok:
            assert seen.result.failure is not None
            problems.append(f"the client failed: {seen.result.failure.kind}: {seen.result.failure.message}")
        elif len(images) != case.expect.count:
            problems.append(f"expected {case.expect.count} image(s), got {len(images)}")
        for index, image in enumerate(images):
            problems += [f"image {index}: {problem}" for problem in _image_problems(image.metadata, image.problem, case)]
        expected = {"count": case.expect.count, "size": f"{case.expect.width}x{case.expect.height}", "format": case.expect.format}
        yield _result(RESULTS, case.id, case.title, problems, seen, details={"expected": expected, "body": _short(case.body)}, images=images)


async def lifecycle(session: Session) -> AsyncIterator[CaseResult]:
    adapter = session.adapter
    if session.wants("lifecycle", "polling"):
        yield await _polling(session)
    if session.wants("lifecycle", "cancel"):
        if CANCEL in adapter.capabilities and isinstance(adapter, CancelingAdapter):
            yield await _cancel(session, adapter)
        else:
            yield CaseResult("lifecycle", "cancel", "cancel a queued job", "skipped", "the client offers no cancellation")
    if session.wants("lifecycle", "webhooks") or session.wants("lifecycle", "forged_webhook"):
        if WEBHOOKS in adapter.capabilities and isinstance(adapter, WebhookAdapter):
            async for result in _webhooks(session, adapter):
                if session.wants("lifecycle", result.case):
                    yield result
        else:
            yield CaseResult("lifecycle", "webhooks", "accept genuine webhooks, reject forged ones", "skipped", "the client handles no webhooks")


async def resilience(session: Session) -> AsyncIterator[CaseResult]:
    for scenario in session.profile.scenarios():
        if not session.wants("resilience", scenario.id):
            continue
        if scenario.capability and scenario.capability not in session.adapter.capabilities:
            yield CaseResult("resilience", scenario.id, scenario.title, "skipped", f"the client has no {scenario.capability} support")
            continue
        yield await _scenario(session, scenario)


async def limits(session: Session) -> AsyncIterator[CaseResult]:
    for case in session.profile.invalid_cases(session.seed, session.examples):
        if not session.wants("limits", case.id):
            continue
        seen = await session.observe(session.request(case.body, timeout=20.0))
        rejected = [entry for entry in seen.journal if _refused(entry)]
        sent = bool(seen.requests) if session.emulator.records_traffic else bool(seen.journal)
        problems = []
        if seen.result.ok:
            problems.append(f"the client returned {len(seen.result.images)} image(s) for a request outside the contract ({case.violates})")
        elif seen.result.failure and seen.result.failure.kind != "invalid_request":
            problems.append(f"expected a validation error, got {seen.result.failure.kind}: {seen.result.failure.message}")
        if sent and not rejected and not seen.result.ok:
            problems.append("the client sent the request, the provider did not reject it, yet the client failed")
        how = "refused locally" if not sent else "surfaced the provider's error"
        yield _result(LIMITS, case.id, case.title, problems, seen, details={"violates": case.violates, "how": how, "body": _short(case.body)})


JUDGES: dict[str, Judge] = {"wire": wire, "results": results, "lifecycle": lifecycle, "resilience": resilience, "limits": limits}


async def _polling(session: Session) -> CaseResult:
    """A job held for 2 s, then released: polls must be spaced, and stop once the job is seen finished."""
    profile = session.profile

    async def release() -> None:
        await asyncio.sleep(2.0)
        jobs = await asyncio.to_thread(session.emulator.jobs, profile.provider)
        for job in jobs:
            for _ in range(job["output_count"] + 2):
                await asyncio.to_thread(session.emulator.advance, job["id"])

    stall = {"action": "stall", "state": "running", "surface": profile.provider}
    seen = await session.observe(session.request(profile.body("lifecycle: polling"), timeout=30.0), [stall], during=release)
    problems = _contract_problems(seen)
    if not seen.result.ok:
        problems.append(f"the job finished but the client failed: {seen.result.failure}")
    polls = [(exchange, profile.polled_job(exchange)) for exchange in seen.exchanges]
    polls = [(exchange, job) for exchange, job in polls if job is not None]
    details: dict[str, Any] = {"polls": len(polls)}
    if not session.emulator.records_traffic:
        return _result(LIFECYCLE, "polling", "poll a running job", problems, seen, details={**details, "note": "traffic not recorded (remote emulator)"})
    if polls:
        gaps = [b.started - a.started for (a, _), (b, _) in itertools.pairwise(polls)]
        details["shortest_gap_s"] = round(min(gaps), 3) if gaps else None
        if gaps and min(gaps) < POLL_GAP:
            problems.append(f"polls {min(gaps) * 1000:.0f} ms apart: a busy loop (keep at least {POLL_GAP * 1000:.0f} ms)")
        ended = _terminal_seen(profile, seen.exchanges)
        late = [exchange for exchange, _ in polls if ended is not None and exchange.started > ended + TERMINAL_SLACK]
        if late:
            problems.append(f"{len(late)} poll(s) after the client had been told the job was finished")
    return _result(LIFECYCLE, "polling", "poll a job that runs for 2 s", problems, seen, details=details)


async def _cancel(session: Session, adapter: CancelingAdapter) -> CaseResult:
    profile = session.profile
    request = session.request(profile.body("lifecycle: cancel"), timeout=20.0)
    mark = await session.clean_start([{"action": "stall", "state": "queued", "surface": profile.provider}])
    started = time.monotonic()
    problems: list[str] = []
    try:
        job_id = await asyncio.wait_for(adapter.start(request), 20)
        await asyncio.wait_for(adapter.cancel(request, job_id), 20)
        result = await asyncio.wait_for(adapter.wait(request, job_id), 20)
    except Exception as exc:  # anything raised here is the client's answer to a clean cancel
        problems.append(f"cancel raised {type(exc).__name__}: {exc}")
        result = None
    jobs = await asyncio.to_thread(session.emulator.jobs, profile.provider)
    if not any(job["state"] == "canceled" for job in jobs):
        problems.append("the provider never saw the job canceled")
    if result is not None and (result.failure is None or result.failure.kind != "canceled"):
        problems.append(f"waiting on a canceled job should report 'canceled', got {result.failure or 'images'}")
    seen = Observation(result or GenerateResult(), "canceled", time.monotonic() - started, session.emulator.exchanges(mark))
    return _result(LIFECYCLE, "cancel", "cancel a queued job", problems, seen)


async def _webhooks(session: Session, adapter: WebhookAdapter) -> AsyncIterator[CaseResult]:
    profile = session.profile
    with session.receiver() as sink:
        body = profile.with_webhook(profile.body("lifecycle: webhooks"), sink.url)
        request = session.request(body, timeout=30.0, webhook_url=sink.url)
        seen = await session.observe(request)
        received = await asyncio.to_thread(sink.wait_for, 1, 10.0)
    problems = list(_contract_problems(seen))
    if not received:
        problems.append("no webhook arrived")
    for delivery in received:
        verdict = await _verify(adapter, request, delivery.headers, delivery.body)
        if not verdict.accepted:
            problems.append(f"a genuine webhook was rejected: {verdict.reason}")
    yield _result(LIFECYCLE, "webhooks", "accept genuine webhooks", problems, seen, details={"received": len(received)})
    if profile.signs_webhooks and received:
        forged = received[0]
        tampered = forged.body.replace(b'"status"', b'"status" ', 1) if b'"status"' in forged.body else forged.body + b" "
        verdict = await _verify(adapter, request, forged.headers, tampered)
        problems = [] if not verdict.accepted else ["a webhook whose body was altered after signing was accepted"]
        yield CaseResult(
            "lifecycle", "forged_webhook", "reject a webhook altered after signing",
            "failed" if problems else "passed", "; ".join(problems),
        )


async def _verify(adapter: WebhookAdapter, request: GenerateRequest, headers: Mapping[str, str], body: bytes) -> WebhookVerdict:
    try:
        return await adapter.verify_webhook(request, headers, body)
    except Exception as exc:  # a verifier that raises instead of answering rejects, and says why
        return WebhookVerdict(False, f"the verifier raised {type(exc).__name__}: {exc}")


async def _scenario(session: Session, scenario: Scenario) -> CaseResult:
    profile = session.profile
    body = profile.body(f"resilience: {scenario.id}", images=scenario.images)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(session.receiver()).url if scenario.capability == WEBHOOKS else None
        if url is not None:
            body = profile.with_webhook(body, url)
        seen = await session.observe(session.request(body, timeout=scenario.timeout, webhook_url=url), scenario.rules)
    problems = []
    if seen.hung:
        problems.append(f"no answer within the {scenario.timeout:.0f} s timeout plus {GRACE:.0f} s: the client hangs")
    elif seen.outcome not in scenario.outcomes:
        failure = seen.result.failure
        detail = f"{failure.kind}: {failure.message}" if failure else f"{len(seen.result.images)} image(s)"
        problems.append(f"expected {' or '.join(sorted(scenario.outcomes))}, got {detail}")
    if seen.outcome == "success" and not scenario.min_images <= len(seen.result.images) <= scenario.images:
        problems.append(f"expected {scenario.min_images}..{scenario.images} image(s), got {len(seen.result.images)}")
    if scenario.retry_after is not None:
        early = _retried_early(seen.exchanges, scenario.retry_after)
        if early is not None:
            problems.append(f"retried {early:.2f} s after a 429 that said Retry-After: {scenario.retry_after:.0f}")
    return _result(RESILIENCE, scenario.id, scenario.title, problems, seen, details={"outcome": seen.outcome, "fact": scenario.fact})


def _refused(entry: dict[str, Any]) -> bool:
    """The provider turned the request down as invalid (Wiro says so in a 200 with result false)."""
    status = entry.get("status") or 0
    return bool(entry.get("violations")) or (400 <= status < 500 and status != 429)


def _contract_problems(seen: Observation) -> list[str]:
    problems = []
    for entry in seen.journal:
        for violation in entry.get("violations") or []:
            problems.append(f"{entry.get('route')}: {violation.get('path') or '/'} {violation.get('message')}")
        if entry.get("status") in (401, 403):
            problems.append(f"{entry.get('route')}: the provider refused the credentials (HTTP {entry['status']})")
        for warning in entry.get("warnings") or []:
            problems.append(f"{entry.get('route')}: served only because the emulator is lenient: {warning}")
    return problems


def _image_problems(metadata: dict[str, Any] | None, problem: str | None, case: Case) -> list[str]:
    expect = case.expect
    assert expect is not None
    if metadata is None:
        return [problem or "no evidence metadata"]
    found = []
    if (metadata["width"], metadata["height"]) != (expect.width, expect.height):
        found.append(f"size {metadata['width']}x{metadata['height']}, expected {expect.width}x{expect.height}")
    if metadata["format"] != expect.format:
        found.append(f"format {metadata['format']}, expected {expect.format}")
    if metadata["prompt_sha256"] != prompt_digest(expect.prompt):
        found.append("the image was made for another prompt")
    if metadata["model"] != expect.model:
        found.append(f"model {metadata['model']}, expected {expect.model}")
    return found


def _terminal_seen(profile: Any, exchanges: list[Exchange]) -> float | None:
    for exchange in exchanges:
        if profile.terminal_job(exchange) is not None:
            return exchange.finished or exchange.started
    return None


def _retried_early(exchanges: list[Exchange], retry_after: float) -> float | None:
    """Seconds between a 429 and the client's next request, when shorter than Retry-After."""
    for index, exchange in enumerate(exchanges):
        if exchange.status == 429 and exchange.finished is not None:
            following = [e for e in exchanges[index + 1 :] if e.direction == "in" and e.method not in ("CLOSE",)]
            if following and following[0].started - exchange.finished < retry_after - 0.05:
                return following[0].started - exchange.finished
    return None


def _result(
    check: CheckInfo,
    case_id: str,
    title: str,
    problems: list[str],
    seen: Observation,
    *,
    details: dict[str, Any] | None = None,
    images: list[Any] | None = None,
) -> CaseResult:
    return CaseResult(
        check.id,
        case_id,
        title,
        "failed" if problems else "passed",
        "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""),
        round(seen.duration, 3),
        details or {},
        seen.summaries() if problems else seen.summaries(8),
        images or [],
    )


def _short(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: _short(value) for key, value in body.items()}
    if isinstance(body, list):
        return [_short(value) for value in body[:5]] + ([f"... {len(body) - 5} more"] if len(body) > 5 else [])
    if isinstance(body, str) and len(body) > 120:
        return body[:100] + f"... ({len(body)} characters)"
    return body

