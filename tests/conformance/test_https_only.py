"""An adapter whose client speaks only https (fal-client) gets its emulator over TLS, with a CA made for the run:
the client is handed that CA, the harness fetches the evidence trusting it, and an emulator that cannot serve
https is refused before anything runs."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from clients.evolink import AsyncEvoLinkClient
from conformance import adapters as registry
from conformance.adapters import AdapterInfo, AdapterSpec, AdapterUnavailable, GenerateRequest, GenerateResult
from conformance.adapters.base import ImageResult
from conformance.events import RunFinished, RunStarted
from conformance.handle import InProcess
from conformance.runner import RunConfig, run


class TrustingOnlyTheRunsCa:
    """Generates with the reference EvoLink client, over an httpx client that trusts nothing but the given CA."""

    name = "https-only"
    provider = "evolink"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, ca_file: Path | None) -> None:
        self.ca_file = ca_file
        self.base_urls: list[str] = []

    async def generate(self, request: GenerateRequest) -> GenerateResult:
        assert self.ca_file is not None
        self.base_urls.append(request.base_url)
        http = httpx.AsyncClient(verify=ssl.create_default_context(cafile=self.ca_file))
        async with AsyncEvoLinkClient(request.credentials["api_key"], base_url=request.base_url, http=http) as client:
            images = await client.generate(dict(request.body))
        await http.aclose()
        return GenerateResult(images=[ImageResult(url=image.url) for image in images])

    async def aclose(self) -> None:
        return None


@pytest.fixture
def made() -> Iterator[list[TrustingOnlyTheRunsCa]]:
    adapters: list[TrustingOnlyTheRunsCa] = []

    async def factory(spec: AdapterSpec, provider: str) -> TrustingOnlyTheRunsCa:
        adapters.append(TrustingOnlyTheRunsCa(spec.ca_file))
        return adapters[-1]

    info = AdapterInfo(("evolink",), "test double", factory, https_only=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(registry.ADAPTERS, "https-only", info)
        yield adapters


async def test_the_run_serves_tls_with_its_own_ca_and_fetches_evidence_trusting_it(
    made: list[TrustingOnlyTheRunsCa],
) -> None:
    config = RunConfig(
        "evolink", AdapterSpec("https-only"), checks=("results",), examples=0, only=["results/valid-001"]
    )
    stream = [event async for event in run(config)]
    started, finished = stream[0], stream[-1]
    assert isinstance(started, RunStarted) and started.emulator.startswith("https://127.0.0.1:")
    assert isinstance(finished, RunFinished)
    [result] = finished.results
    # Passing means the harness downloaded the image over https and read the emulator's metadata in it.
    assert result.status == "passed", result.message
    [adapter] = made
    assert adapter.base_urls and all(url.startswith("https://") for url in adapter.base_urls)
    assert adapter.ca_file is not None and not adapter.ca_file.exists(), "the run's CA goes with the run"


async def test_an_emulator_without_tls_is_refused_before_the_client_starts(made: list[TrustingOnlyTheRunsCa]) -> None:
    plain = InProcess.start(timing="fast", seed=0)
    try:
        config = RunConfig("evolink", AdapterSpec("https-only"), examples=0, emulator_url=plain.base)
        with pytest.raises(AdapterUnavailable, match="speaks only https"):
            [event async for event in run(config)]
    finally:
        plain.close()
    assert made == []
