"""The checks' judgements: what the caller asked for reaches the job, one call makes one job, credentials stay out
of URLs, ambiguous failures are survived without a second job, and webhook receivers refuse what they must."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.adapters import AdapterSpec, GenerateRequest, GenerateResult
from conformance.adapters.base import WEBSOCKET
from conformance.checks import _duplicate_jobs, _image_problems, _leaks, _set_problems
from conformance.events import CaseResult, RunFinished
from conformance.profiles import Case, Expectation, load_profile
from conformance.recorder import Exchange
from conformance.runner import RunConfig, run
from conformance.session import Observation, prompt_digest
from conformance.webhooks import StandardWebhooks

PROMPT = "a lighthouse"


def record(**changes: Any) -> dict[str, Any]:
    """Evidence metadata as `emulator.read_metadata` gives it back."""
    return {
        "emulator": "seedream-emulator", "provider": "runware", "model": "m", "job_id": "job-1", "index": 0,
        "seed": 7, "width": 1024, "height": 1024, "format": "jpeg", "quality": 90,
        "prompt_sha256": prompt_digest(PROMPT), "reference_count": 0, **changes,
    }  # fmt: skip


def case(**asked: Any) -> Case:
    return Case("valid-001", "t", {}, Expectation(1, 1024, 1024, "jpeg", PROMPT, "m", **asked))


def test_an_image_made_as_asked_has_no_problem() -> None:
    assert _image_problems(record(), None, case(seed=7, quality=90, reference_count=0), "runware") == []


@pytest.mark.parametrize(
    ("asked", "ran", "problem"),
    [
        ({"seed": 42}, {"seed": 7}, "the caller asked for seed 42, the job ran with seed 7"),
        ({"quality": 60}, {"quality": 85}, "the caller asked for quality 60, the job ran with quality 85"),
        (
            {"reference_count": 3},
            {"reference_count": 0},
            "the caller asked for reference count 3, the job ran with reference count 0",
        ),
        ({}, {"provider": "wiro"}, "made by wiro, not runware"),
    ],
)
def test_every_value_the_caller_gave_is_compared(asked: dict[str, int], ran: dict[str, Any], problem: str) -> None:
    assert _image_problems(record(**ran), None, case(**asked), "runware") == [problem]


def test_values_the_caller_did_not_give_are_not_compared() -> None:
    assert _image_problems(record(seed=123, quality=20, reference_count=4), None, case(), "runware") == []


def test_only_the_first_image_proves_the_seed() -> None:
    # Providers derive the seeds of later images from the first (Runware: seed + index).
    assert _image_problems(record(index=1, seed=43), None, case(seed=42), "runware") == []


def test_the_images_of_one_call_come_from_one_job_each_once() -> None:
    assert _set_problems([record(index=0), record(index=1)]) == []
    assert _set_problems([record(index=0), record(index=0)]) == ["the same image was returned more than once (index 0)"]
    [problem] = _set_problems([record(), record(job_id="job-2", index=1)])
    assert problem == "the images come from 2 jobs (job-1, job-2): one call, one job"


def test_a_second_job_for_one_call_is_named_as_the_duplicate() -> None:
    jobs = [{"id": "later", "created_at": 2.0}, {"id": "first", "created_at": 1.0}]
    assert _duplicate_jobs(jobs[:1], 1) == []
    [problem] = _duplicate_jobs(jobs, 1)
    assert problem.startswith("one call created 2 jobs: later duplicates first; the client re-sent a create")


class Credentials:
    provider = "wiro"

    def credentials(self) -> dict[str, str]:
        return {"api_key": "key/with space", "secret": "s3cret"}


def seen(*exchanges: Exchange) -> Observation:
    return Observation(GenerateResult(), "success", 0.0, list(exchanges))


def exchange(path: str = "/v1/Run", query: str = "", body: bytes = b"{}") -> Exchange:
    return Exchange(1, "http", "POST", path, 0.0, request_body=body, query=query)


@pytest.mark.parametrize(
    ("where", "found"),
    [
        (exchange(query="key=key%2Fwith%20space"), "the api key is in the request URL"),
        (exchange(query="k=key%2Fwith+space"), "the api key is in the request URL"),
        (exchange(path="/v1/s3cret/Run"), "the secret is in the request URL"),
        (
            exchange(body=b'{"callbackUrl": "https://hooks.example/cb?token=s3cret"}'),
            "the secret is inside a URL in the request body",
        ),
    ],
)
def test_credentials_in_a_url_are_found(where: Exchange, found: str) -> None:
    session: Any = type("S", (), {"profile": Credentials()})()
    [problem] = _leaks(session, seen(where))
    assert found in problem and "POST" in problem


def test_credentials_outside_urls_are_not_leaks() -> None:
    # Runware takes its key in an authentication task of the body; headers are where keys belong.
    session: Any = type("S", (), {"profile": Credentials()})()
    body = b'[{"taskType": "authentication", "apiKey": "s3cret"}, {"webhookURL": "https://hooks.example/cb"}]'
    assert _leaks(session, seen(exchange(body=body))) == []


async def results(provider: str, only: list[str], adapter: str = "reference") -> dict[str, CaseResult]:
    async for event in run(RunConfig(provider, AdapterSpec.parse(adapter), examples=0, only=only)):
        if isinstance(event, RunFinished):
            return {f"{result.check}/{result.case}": result for result in event.results}
    raise AssertionError("the run did not finish")


@pytest.mark.parametrize(
    ("provider", "outcomes"),
    [
        # Runware's create is idempotent by taskUUID: the client re-sends it, meets conflictTaskUUID and polls.
        ("runware", ("success", "success")),
        # The others cannot repeat a create safely: the reference clients report the error.
        ("wiro", ("server_error", "connection")),
        ("evolink", ("server_error", "connection")),
        ("replicate", ("server_error", "connection")),
    ],
)
async def test_an_ambiguous_failure_is_survived_with_one_job(provider: str, outcomes: tuple[str, str]) -> None:
    found = await results(provider, ["resilience/ambiguous_*"])
    assert [(case, result.status) for case, result in found.items()] == [
        ("resilience/ambiguous_create", "passed"),
        ("resilience/ambiguous_drop", "passed"),
    ], {case: result.message for case, result in found.items()}
    assert tuple(result.details["outcome"] for result in found.values()) == outcomes


class SocketClient:
    """A client that declares it talks over a WebSocket; it is never asked to generate."""

    name = "socket"
    capabilities = frozenset({WEBSOCKET})
    provider = "runware"

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        raise AssertionError("an excluded case must not run")

    async def aclose(self) -> None:
        return None


async def test_ambiguous_failures_are_skipped_for_websocket_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance import adapters as registry

    async def factory(spec: AdapterSpec, provider: str) -> SocketClient:
        return SocketClient()

    monkeypatch.setitem(registry.ADAPTERS, "socket", registry.AdapterInfo(("runware",), "test double", factory))
    found = await results("runware", ["resilience/ambiguous_*"], adapter="socket")
    assert {result.status for result in found.values()} == {"skipped"}
    assert "acts on HTTP replies only" in found["resilience/ambiguous_create"].message


# Replicate recommends a 5-minute tolerance (shared/providers/replicate.md section 5.4), as the standardwebhooks
# library enforces (`webhook_tolerance = timedelta(minutes=5)` in standardwebhooks/webhooks.py).
TOLERANCE = 300


def signing_replicate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lend the Replicate profile the signing hook it is to supply (profiles.base.webhook_signing)."""
    profile = load_profile("replicate")

    def webhook_signing(emulator: Any) -> StandardWebhooks:
        url = f"{profile.base_url(emulator)}/v1/webhooks/default/secret"
        token = profile.credentials()["api_key"]
        key = httpx.get(url, headers={"Authorization": f"Bearer {token}"}).raise_for_status().json()["key"]
        return StandardWebhooks(key, TOLERANCE)

    if not callable(getattr(profile, "webhook_signing", None)):
        monkeypatch.setattr(profile, "webhook_signing", webhook_signing, raising=False)


RECEIVER_CASES = ["lifecycle/webhooks", "lifecycle/forged_webhook", "lifecycle/unsigned_webhook",
                  "lifecycle/stale_webhook", "lifecycle/reordered_webhook"]  # fmt: skip


async def test_the_reference_receiver_refuses_forged_unsigned_and_stale_and_tolerates_reordering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signing_replicate(monkeypatch)
    found = await results("replicate", ["lifecycle/*webhook*"])
    assert sorted(found) == sorted(RECEIVER_CASES)
    assert {case: result.message for case, result in found.items() if result.status != "passed"} == {}


async def test_without_a_signing_hook_the_stale_and_reordered_cases_are_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = load_profile("replicate")
    monkeypatch.setattr(profile, "webhook_signing", None, raising=False)
    found = await results("replicate", ["lifecycle/stale_webhook", "lifecycle/reordered_webhook"])
    assert {result.status for result in found.values()} == {"skipped"}
    assert all("profiles.base.webhook_signing" in result.message for result in found.values())


async def test_the_official_replicate_client_accepts_a_stale_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    # replicate 1.0.7 `Webhooks.validate(..., tolerance=None)` checks no timestamp unless the caller passes one.
    pytest.importorskip("replicate")
    signing_replicate(monkeypatch)
    found = await results("replicate", ["lifecycle/stale_webhook", "lifecycle/unsigned_webhook"], adapter="replicate")
    assert found["lifecycle/unsigned_webhook"].status == "passed"
    assert found["lifecycle/stale_webhook"].status == "failed"
    assert "sent 360 s ago (the provider's tolerance is 300 s) was accepted" in found["lifecycle/stale_webhook"].message
