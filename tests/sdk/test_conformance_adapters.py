"""The harness's adapters for the official SDKs drive them for real: plumbing works, known defects show."""

from __future__ import annotations

import pytest

from conformance.adapters import AdapterSpec
from conformance.events import CaseResult, RunFinished
from conformance.runner import RunConfig, run
from tests.sdk.npm import CACHE as NPM_CACHE
from tests.sdk.venvs import CACHE

pytestmark = pytest.mark.sdk

# adapter, provider, cases that must pass, (case that must fail, why)
EXPECTED = [
    (
        "replicate",
        "replicate",
        ["wire/valid-001", "results/valid-006", "lifecycle/cancel", "lifecycle/forged_webhook"],
        ("resilience/stalled_job", "the client hangs"),
    ),
    # A shorter sequence than maxSequentialImages is fine for runware-sdk 1.8.0 (it waits for numberResults items);
    # over REST it re-sends a create whose 502 hid an accepted task and fails on conflictTaskUUID, and over the
    # socket it cannot take a frame above 1 MiB (a 4K base64 image), so it hangs.
    (
        "runware-sdk-rest",
        "runware",
        [
            "wire/valid-001",
            "results/valid-009",
            "limits/invalid-001",
            "resilience/rate_limit",
            "resilience/fewer_images",
        ],
        ("resilience/ambiguous_create", "got invalid_request"),
    ),
    (
        "runware-sdk-ws",
        "runware",
        ["results/valid-001", "limits/invalid-004", "resilience/fewer_images"],
        ("results/valid-039", "the client hangs"),
    ),
    # runware 0.5.24 waits for numberResults images, so it cuts a sequence: 1 reference + 14 sequential images.
    (
        "runware-legacy",
        "runware",
        ["results/valid-003", "limits/invalid-003"],
        ("results/valid-035", "expected 14 image(s), got 1"),
    ),
    # The npm clients. replicate 1.4.0 retries a 429 at once (it never reads Retry-After); @runware/sdk-js 1.3.2
    # leaves out every falsy field it knows, so a seed of 0 never reaches the server.
    (
        "replicate-js",
        "replicate",
        ["wire/valid-001", "results/valid-006", "lifecycle/cancel", "lifecycle/forged_webhook"],
        ("resilience/rate_limit", "after a 429 that said Retry-After"),
    ),
    (
        "runware-js",
        "runware",
        ["results/valid-001", "limits/invalid-001", "limits/invalid-004", "resilience/fewer_images"],
        ("results/valid-006", "the caller asked for seed 0"),
    ),
    # fal-client 1.0.3 over the emulator's TLS: it re-sends any request whose connection broke, the submit's POST
    # too, so a dropped reply to an accepted submit queues the generation twice.
    (
        "fal-client",
        "fal",
        ["wire/valid-001", "results/valid-012", "lifecycle/cancel", "limits/invalid-003", "resilience/poll_error"],
        ("resilience/ambiguous_drop", "one call created 2 jobs"),
    ),
    # @fal-ai/client 1.10.1 through its proxyUrl: it retries a submit that met a gateway's 502 (and a dropped
    # connection), so an accepted generation is queued twice. It also ignores Retry-After, but its 1 s backoff with
    # a quarter of jitter waits long enough about half the time, so that case would not fail every run.
    (
        "fal-js",
        "fal",
        ["wire/valid-001", "results/valid-012", "lifecycle/cancel", "limits/invalid-003", "resilience/poll_error"],
        ("resilience/ambiguous_create", "one call created 2 jobs"),
    ),
    # Ark's Python clients (the openai client pointed at Ark, and volcengine-ark-runtime) retry a POST after a 5xx,
    # so a generation Ark had accepted before a gateway's 502 is made, and billed, twice; ark-runtime also retries a
    # 429 sooner than its Retry-After.
    (
        "openai-ark",
        "ark",
        ["wire/valid-001", "results/valid-029", "limits/invalid-001", "resilience/rate_limit", "resilience/failed_job"],
        ("resilience/ambiguous_create", "one call created 2 jobs"),
    ),
    (
        "ark-runtime",
        "ark",
        ["wire/valid-001", "results/valid-009", "results/valid-029", "limits/invalid-001", "resilience/failed_job"],
        # Its early retry after a 429 depends on its jitter (0.8 s in one run, past 1 s in another): not a row.
        ("resilience/ambiguous_create", "one call created 2 jobs"),
    ),
]


async def outcome(adapter: str, provider: str, cases: list[str]) -> dict[str, CaseResult]:
    async for event in run(RunConfig(provider, AdapterSpec(adapter), examples=0, only=cases)):
        if isinstance(event, RunFinished):
            return {f"{result.check}/{result.case}": result for result in event.results}
    raise AssertionError("the run did not finish")


@pytest.mark.parametrize(("adapter", "provider", "passing", "defect"), EXPECTED, ids=[row[0] for row in EXPECTED])
async def test_adapter_runs_the_sdk_and_its_defect_is_found(
    adapter: str, provider: str, passing: list[str], defect: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDREAM_SDK_VENVS", str(CACHE))
    monkeypatch.setenv("SEEDREAM_NPM_CACHE", str(NPM_CACHE))
    failing, reason = defect
    found = await outcome(adapter, provider, [*passing, failing])
    assert {case: found[case].message for case in passing if found[case].status != "passed"} == {}
    assert found[failing].status == "failed" and reason in found[failing].message, found[failing].message
