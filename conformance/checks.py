"""The checks. Each has a stable id, a rationale and the provider fact it enforces, and judges cases.

Checks know nothing about a provider: everything provider-specific comes from the session's profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

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
from .profiles.base import webhook_signing
from .recorder import Exchange
from .session import GRACE, Observation, Session, prompt_digest
from .webhooks import Received, WebhookSigning, resigned, unsigned

POLL_GAP = 0.1
# What a client may report for an out-of-contract request, by how the provider refuses it.
REFUSALS = {"request": ("invalid_request",), "task": ("invalid_request", "generation_failed")}
TERMINAL_SLACK = 0.02
# A stale delivery is signed this many seconds beyond the provider's tolerance (clock skew and slow runs aside,
# it is unambiguously outside); a re-ordered one at half the tolerance, unambiguously inside.
STALE_MARGIN = 60
URL_IN_BODY = re.compile(r"(?:https?|wss?)://[^\s\"'<>\\]+", re.IGNORECASE)
WEBHOOK_CASES = ("webhooks", "forged_webhook", "unsigned_webhook", "stale_webhook", "reordered_webhook")

WIRE = CheckInfo(
    "wire",
    "Every request meets the provider's contract",
    "A client must never send what the provider would reject: each request is validated against the "
    "JSON Schema and cross-field rules, and must authenticate (Wiro: a correct HMAC signature) without putting "
    "its credentials in a URL.",
    "contracts/<provider> (docs/contracts/<provider>.md)",
)
RESULTS = CheckInfo(
    "results",
    "The right images come back",
    "For generated valid inputs, boundaries included, the client returns exactly the images the provider "
    "made, of one job, of the requested size and format, run with every value the caller gave (seed, quality, "
    "references), proven by the metadata each placeholder carries.",
    "the provider's size table and count rules (contracts/<provider>/rules.json)",
)
LIFECYCLE = CheckInfo(
    "lifecycle",
    "Polls sanely, stops at the end, cancels, verifies webhooks",
    "A client polls until the job is terminal and not after, without hammering the provider; "
    "cancels cleanly where the provider can; and accepts genuine webhooks, also out of order, while rejecting "
    "forged, unsigned and stale (replayed) ones.",
    "each provider's polling guidance and webhook signing (docs/<provider>.md)",
)
RESILIENCE = CheckInfo(
    "resilience",
    "Survives faults with a clear result",
    "Under 429s, 5xx, slow answers, failed and stalled jobs, fewer images, lost connections and duplicate "
    "webhooks, the client recovers or raises a typed error; it never hangs past its timeout or crashes "
    "with an unrelated exception, honours Retry-After, and never re-sends a create the provider may have "
    "accepted (one call, one job).",
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
        problems = _contract_problems(seen) + _leaks(session, seen)
        if (
            not session.emulator.records_traffic
            and not seen.journal
            or session.emulator.records_traffic
            and not seen.requests
        ):
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
            found = _image_problems(image.metadata, image.problem, case, session.profile.provider)
            problems += [f"image {index}: {problem}" for problem in found]
        problems += _set_problems([image.metadata for image in images if image.metadata is not None])
        expected = {
            "count": case.expect.count,
            "size": f"{case.expect.width}x{case.expect.height}",
            "format": case.expect.format,
        }
        expected |= {name: value for name, value in _asked(case).items() if value is not None}
        yield _result(
            RESULTS,
            case.id,
            case.title,
            problems,
            seen,
            details={"expected": expected, "body": _short(case.body)},
            images=images,
        )


async def lifecycle(session: Session) -> AsyncIterator[CaseResult]:
    adapter = session.adapter
    if session.wants("lifecycle", "polling"):
        yield await _polling(session)
    if session.wants("lifecycle", "cancel"):
        if CANCEL in adapter.capabilities and isinstance(adapter, CancelingAdapter):
            yield await _cancel(session, adapter)
        else:
            yield CaseResult(
                "lifecycle", "cancel", "cancel a queued job", "skipped", "the client offers no cancellation"
            )
    if any(session.wants("lifecycle", case) for case in WEBHOOK_CASES):
        if WEBHOOKS in adapter.capabilities and isinstance(adapter, WebhookAdapter):
            async for result in _webhooks(session, adapter):
                if session.wants("lifecycle", result.case):
                    yield result
        else:
            yield CaseResult(
                "lifecycle",
                "webhooks",
                "accept genuine webhooks, reject forged ones",
                "skipped",
                "the client handles no webhooks",
            )


async def resilience(session: Session) -> AsyncIterator[CaseResult]:
    for scenario in session.profile.scenarios():
        if not session.wants("resilience", scenario.id):
            continue
        if scenario.capability and scenario.capability not in session.adapter.capabilities:
            yield CaseResult(
                "resilience", scenario.id, scenario.title, "skipped", f"the client has no {scenario.capability} support"
            )
            continue
        if scenario.excludes and scenario.excludes in session.adapter.capabilities:
            yield CaseResult("resilience", scenario.id, scenario.title, "skipped", scenario.excluded_because)
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
            problems.append(
                f"the client returned {len(seen.result.images)} image(s) for a request outside the contract ({case.violates})"
            )
        elif seen.result.failure and seen.result.failure.kind not in REFUSALS[case.refused_by]:
            expected = " or ".join(REFUSALS[case.refused_by])
            problems.append(f"expected {expected}, got {seen.result.failure.kind}: {seen.result.failure.message}")
        if case.refused_by == "request" and sent and not rejected and not seen.result.ok:
            problems.append("the client sent the request, the provider did not reject it, yet the client failed")
        how = "refused locally" if not sent else "surfaced the provider's error"
        yield _result(
            LIMITS,
            case.id,
            case.title,
            problems,
            seen,
            details={"violates": case.violates, "how": how, "body": _short(case.body)},
        )


JUDGES: dict[str, Judge] = {
    "wire": wire,
    "results": results,
    "lifecycle": lifecycle,
    "resilience": resilience,
    "limits": limits,
}


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
    seen = await session.observe(
        session.request(profile.body("lifecycle: polling"), timeout=30.0), [stall], during=release
    )
    problems = _contract_problems(seen) + _leaks(session, seen)
    if not seen.result.ok:
        problems.append(f"the job finished but the client failed: {seen.result.failure}")
    polls = [(exchange, profile.polled_job(exchange)) for exchange in seen.exchanges]
    polls = [(exchange, job) for exchange, job in polls if job is not None]
    details: dict[str, Any] = {"polls": len(polls)}
    if not session.emulator.records_traffic:
        return _result(
            LIFECYCLE,
            "polling",
            "poll a running job",
            problems,
            seen,
            details={**details, "note": "traffic not recorded (remote emulator)"},
        )
    if polls:
        gaps = [b.started - a.started for (a, _), (b, _) in itertools.pairwise(polls)]
        details["shortest_gap_s"] = round(min(gaps), 3) if gaps else None
        if gaps and min(gaps) < POLL_GAP:
            problems.append(
                f"polls {min(gaps) * 1000:.0f} ms apart: a busy loop (keep at least {POLL_GAP * 1000:.0f} ms)"
            )
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
    except Exception as exc:
        problems.append(f"cancel raised {type(exc).__name__}: {exc}")
        result = None
    jobs = await asyncio.to_thread(session.emulator.jobs, profile.provider)
    if not any(job["state"] == "canceled" for job in jobs):
        problems.append("the provider never saw the job canceled")
    if result is not None and (result.failure is None or result.failure.kind != "canceled"):
        problems.append(f"waiting on a canceled job should report 'canceled', got {result.failure or 'images'}")
    seen = Observation(
        result or GenerateResult(), "canceled", time.monotonic() - started, session.emulator.exchanges(mark)
    )
    return _result(LIFECYCLE, "cancel", "cancel a queued job", problems, seen)


async def _webhooks(session: Session, adapter: WebhookAdapter) -> AsyncIterator[CaseResult]:
    profile = session.profile
    signing = await asyncio.to_thread(webhook_signing, profile, session.emulator) if profile.signs_webhooks else None
    with session.receiver() as sink:
        body = profile.with_webhook(profile.body("lifecycle: webhooks"), sink.url)
        request = session.request(body, timeout=30.0, webhook_url=sink.url)
        seen = await session.observe(request)
        received = await asyncio.to_thread(sink.wait_for, 1, 10.0)
    problems = _contract_problems(seen) + _leaks(session, seen)
    if not received:
        problems.append("no webhook arrived")
    for delivery in received:
        verdict = await _verify(adapter, request, delivery.headers, delivery.body)
        if not verdict.accepted:
            problems.append(f"a genuine webhook was rejected: {verdict.reason}")
    yield _result(LIFECYCLE, "webhooks", "accept genuine webhooks", problems, seen, details={"received": len(received)})
    if profile.signs_webhooks and received:
        async for result in _receiver_cases(adapter, request, received[0], signing):
            yield result


async def _receiver_cases(
    adapter: WebhookAdapter, request: GenerateRequest, genuine: Received, signing: WebhookSigning | None
) -> AsyncIterator[CaseResult]:
    """What a receiver must refuse (a forged, an unsigned and a stale delivery) and tolerate (re-ordering)."""
    forged = genuine.body.replace(b'"status"', b'"status" ', 1) if b'"status"' in genuine.body else genuine.body + b" "
    verdict = await _verify(adapter, request, genuine.headers, forged)
    yield _verdict(
        "forged_webhook",
        "reject a webhook altered after signing",
        not verdict.accepted,
        "a webhook whose body was altered after signing was accepted",
    )
    verdict = await _verify(adapter, request, unsigned(genuine.headers), genuine.body)
    yield _verdict(
        "unsigned_webhook",
        "reject a webhook that carries no signature",
        not verdict.accepted,
        "a webhook with no signature headers at all was accepted",
    )
    stale_title = "reject a replayed webhook signed outside the tolerance"
    reordered_title = "accept deliveries that arrive out of order"
    if signing is None:
        reason = "the profile cannot sign a delivery (profiles.base.webhook_signing)"
        yield CaseResult("lifecycle", "stale_webhook", stale_title, "skipped", reason)
        yield CaseResult("lifecycle", "reordered_webhook", reordered_title, "skipped", reason)
        return
    now = int(time.time())
    age = int(signing.tolerance) + STALE_MARGIN
    stale = resigned(genuine.headers, genuine.body, signing, now - age, _message_id())
    verdict = await _verify(adapter, request, stale, genuine.body)
    yield _verdict(
        "stale_webhook",
        stale_title,
        not verdict.accepted,
        f"a genuinely signed webhook sent {age} s ago (the provider's tolerance is {signing.tolerance:g} s) "
        "was accepted: so would a replayed one",
    )
    later = resigned(genuine.headers, genuine.body, signing, now, _message_id())
    earlier = resigned(genuine.headers, genuine.body, signing, now - int(signing.tolerance) // 2, _message_id())
    rejected = []
    for label, headers in (("the later delivery", later), ("the earlier delivery, arriving second", earlier)):
        verdict = await _verify(adapter, request, headers, genuine.body)
        if not verdict.accepted:
            rejected.append(f"{label} was rejected: {verdict.reason}")
    yield _verdict(
        "reordered_webhook",
        reordered_title,
        not rejected,
        "; ".join(rejected) + " (webhooks may arrive out of order, each within the tolerance)",
    )


def _verdict(case: str, title: str, passed: bool, problem: str) -> CaseResult:
    return CaseResult("lifecycle", case, title, "passed" if passed else "failed", "" if passed else problem)


def _message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


async def _verify(
    adapter: WebhookAdapter, request: GenerateRequest, headers: Mapping[str, str], body: bytes
) -> WebhookVerdict:
    try:
        return await adapter.verify_webhook(request, headers, body)
    except Exception as exc:
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
    if scenario.max_jobs is not None:
        problems += _duplicate_jobs(await asyncio.to_thread(session.emulator.jobs, profile.provider), scenario.max_jobs)
    if scenario.retry_after is not None:
        early = _retried_early(seen.exchanges, scenario.retry_after)
        if early is not None:
            problems.append(f"retried {early:.2f} s after a 429 that said Retry-After: {scenario.retry_after:.0f}")
    return _result(
        RESILIENCE,
        scenario.id,
        scenario.title,
        problems,
        seen,
        details={"outcome": seen.outcome, "fact": scenario.fact},
    )


def _duplicate_jobs(jobs: list[dict[str, Any]], allowed: int) -> list[str]:
    """One call that left more jobs than `allowed`: the later ones duplicate the first."""
    if len(jobs) <= allowed:
        return []
    ordered = sorted(jobs, key=lambda job: job.get("created_at") or 0)
    later = ", ".join(str(job["id"]) for job in ordered[allowed:])
    verb = "duplicates" if len(ordered) - allowed == 1 else "duplicate"
    return [
        (
            f"one call created {len(jobs)} jobs: {later} {verb} {ordered[0]['id']}; the client re-sent a create the "
            "provider had already accepted, which production bills again (recover the first job, or report the error)"
        )
    ]


def _leaks(session: Session, seen: Observation) -> list[str]:
    """Credentials where production would log or forward them: in a request's URL, or in a URL inside a request
    body (a webhook or callback target, which the provider calls, logs, and hands to whoever runs it)."""
    found: list[str] = []
    for name, value in session.profile.credentials().items():
        if not value:
            continue
        forms = {value, quote(value, safe=""), quote_plus(value)}
        label = name.replace("_", " ")
        for exchange in seen.requests:
            where = f"{exchange.method} {exchange.path}"
            if any(form in exchange.path or form in exchange.query for form in forms):
                found.append(f"{where}: the {label} is in the request URL, where proxies and access logs keep it")
            elif any(
                form in url for url in URL_IN_BODY.findall(exchange.request_body.decode("latin-1")) for form in forms
            ):
                found.append(
                    f"{where}: the {label} is inside a URL in the request body (a webhook or callback "
                    "target: the provider calls it, logs it, and sends the key to whoever runs it)"
                )
    return list(dict.fromkeys(found))


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


def _image_problems(metadata: dict[str, Any] | None, problem: str | None, case: Case, provider: str) -> list[str]:
    expect = case.expect
    assert expect is not None
    if metadata is None:
        return [problem or "no evidence metadata"]
    found = []
    if metadata["provider"] != provider:
        found.append(f"made by {metadata['provider']}, not {provider}")
    if (metadata["width"], metadata["height"]) != (expect.width, expect.height):
        found.append(f"size {metadata['width']}x{metadata['height']}, expected {expect.width}x{expect.height}")
    if metadata["format"] != expect.format:
        found.append(f"format {metadata['format']}, expected {expect.format}")
    if metadata["prompt_sha256"] != prompt_digest(expect.prompt):
        found.append("the image was made for another prompt")
    if metadata["model"] != expect.model:
        found.append(f"model {metadata['model']}, expected {expect.model}")
    ran = {
        "seed": metadata.get("seed") if metadata.get("index") == 0 else None,
        "quality": metadata.get("quality"),
        "reference_count": metadata.get("reference_count"),
    }
    for name, asked in _asked(case).items():
        if asked is not None and ran[name] is not None and ran[name] != asked:
            label = name.replace("_", " ")
            found.append(f"the caller asked for {label} {asked}, the job ran with {label} {ran[name]}")
    return found


def _asked(case: Case) -> dict[str, int | None]:
    """What the caller gave beyond size, format, prompt and model (None: not given, or not provable)."""
    expect = case.expect
    assert expect is not None
    return {"seed": expect.seed, "quality": expect.quality, "reference_count": expect.reference_count}


def _set_problems(records: list[dict[str, Any]]) -> list[str]:
    """The images of one call come from one job, each once."""
    problems = []
    jobs = list(dict.fromkeys(str(record.get("job_id")) for record in records))
    if len(jobs) > 1:
        problems.append(f"the images come from {len(jobs)} jobs ({', '.join(jobs)}): one call, one job")
    indexes = [(record.get("job_id"), record.get("index")) for record in records]
    repeated = sorted({str(index) for key in set(indexes) if indexes.count(key) > 1 for _, index in [key]})
    if repeated:
        problems.append(f"the same image was returned more than once (index {', '.join(repeated)})")
    return problems


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
