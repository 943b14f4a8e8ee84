"""Every profile case means what it says: the emulator accepts valid bodies and refuses invalid ones."""

from __future__ import annotations

import base64
import importlib
from typing import Any

import pytest

from conformance.fixtures import resolved
from conformance.profiles import PROVIDERS, load_profile
from conformance.profiles.base import inside, outside
from tests.conftest import Emulator
from tests.emulator.providers.runware.conftest import Runware
from tests.emulator.providers.wiro.conftest import signed_headers
from tests.support import FilePart

SEED, EXAMPLES = 7, 6


def rules_of(provider: str) -> Any:
    return importlib.import_module(f"contracts.{provider}.rules")


async def submit(emulator: Emulator, provider: str, body: dict[str, Any]) -> bool:
    """Send a create request as a client would; True when the provider took the job and the job did not fail."""
    before = {job["id"] for job in emulator.app.state.emulator.jobs(surface=provider)}
    taken = await _create(emulator, provider, resolved(body, "http://testserver"))
    await emulator.runtime.settle()
    failed = [
        job
        for job in emulator.app.state.emulator.jobs(surface=provider)
        if job["id"] not in before and job["state"] == "failed"
    ]
    return taken and not failed


async def _create(emulator: Emulator, provider: str, body: dict[str, Any]) -> bool:
    client = emulator.client
    if provider == "runware":
        response = await Runware(emulator).create(body)
        return response.status_code == 200 and not response.json().get("errors")
    if provider == "evolink":
        response = await client.post("/evolink/v1/images/generations", json=body, headers={"Authorization": "Bearer k"})
        return response.status_code == 200
    if provider == "ark":
        response = await client.post("/ark/api/v3/images/generations", json=body, headers={"Authorization": "Bearer k"})
        return response.status_code == 200
    if provider == "fal":
        path = f"/fal/queue/{body['app']}"
        response = await client.post(path, json=body.get("input"), headers={"Authorization": "Key k:s"})
        return response.status_code == 200
    if provider == "replicate":
        path = "/replicate/v1/models/bytedance/seedream-4/predictions"
        response = await client.post(path, json=body, headers={"Authorization": "Bearer r8_k"})
        return response.status_code == 201
    path = "/wiro/v1/Run/bytedance/seedream-v4"
    images = body.get("inputImage") or []
    if any(isinstance(image, str) and image.startswith("data:") for image in images):
        # Wiro's profile carries local files as data URIs; a client sends them as multipart file parts.
        fields: list[FilePart] = [(name, (None, str(value))) for name, value in body.items() if name != "inputImage"]
        parts: list[FilePart] = [
            ("inputImage", ("ref.png", base64.b64decode(image.partition(",")[2]), "image/png")) for image in images
        ]
        response = await client.post(path, files=fields + parts, headers=signed_headers())
    else:
        response = await client.post(path, json=body, headers=signed_headers())
    return response.status_code == 200 and response.json()["result"] is True


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_valid_cases_are_accepted(emulator: Emulator, provider: str) -> None:
    cases = load_profile(provider).valid_cases(SEED, EXAMPLES)
    refused = [case.id for case in cases if not await submit(emulator, provider, dict(case.body))]
    assert refused == []
    assert all(case.expect is not None and case.expect.count >= 1 for case in cases)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_invalid_cases_are_refused(emulator: Emulator, provider: str) -> None:
    cases = load_profile(provider).invalid_cases(SEED, EXAMPLES)
    accepted = [f"{case.id} {case.title}" for case in cases if await submit(emulator, provider, dict(case.body))]
    assert accepted == []


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if hasattr(rules_of(p), "boundaries")])
def test_every_contract_limit_has_a_case_just_inside_and_one_just_outside(provider: str) -> None:
    """The harness tests clients at every limit the emulator enforces, read from the same contract."""
    profile = load_profile(provider)
    valid = {case.title for case in profile.valid_cases(SEED, 0)}
    invalid = {case.title for case in profile.invalid_cases(SEED, 0)}
    for boundary in rules_of(provider).boundaries():
        assert inside(boundary) in valid, boundary.name
        assert boundary.outside is None or outside(boundary) in invalid, boundary.name


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cases_are_reproducible_from_the_seed(provider: str) -> None:
    profile = load_profile(provider)

    def shapes(seed: int) -> list[Any]:
        return [
            (case.title, case.expect)
            for case in profile.valid_cases(seed, EXAMPLES) + profile.invalid_cases(seed, EXAMPLES)
        ]

    assert shapes(3) == shapes(3)
    assert shapes(3) != shapes(4)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_examples_add_drawn_cases_to_the_boundaries(provider: str) -> None:
    profile = load_profile(provider)
    assert len(profile.valid_cases(0, 5)) == len(profile.valid_cases(0, 0)) + 5
    assert len(profile.invalid_cases(0, 5)) == len(profile.invalid_cases(0, 0)) + 5


def test_unknown_provider_is_named() -> None:
    with pytest.raises(ValueError, match="choose one of runware, wiro, evolink, replicate"):
        load_profile("midjourney")
