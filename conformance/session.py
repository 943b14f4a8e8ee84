"""One harness session: an emulator, a client adapter, a provider profile, and how a case is observed."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fnmatch
import hashlib
import io
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from PIL import Image

from emulator import NotEvidence, read_metadata

from .adapters.base import Adapter, Failure, GenerateRequest, GenerateResult, ImageResult
from .events import Evidence
from .fixtures import resolved
from .handle import EmulatorHandle
from .profiles import Case, Profile
from .recorder import Exchange
from .webhooks import WebhookSink

# How long past its own timeout a client may take before the harness calls it a hang.
GRACE = 5.0
THUMBNAIL = 160


@dataclass
class Observation:
    """What happened when the client ran one request: its result, and the traffic it caused."""

    result: GenerateResult
    outcome: str
    duration: float
    exchanges: list[Exchange] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)
    hung: bool = False
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def requests(self) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.direction == "in" and exchange.method != "CLOSE"]

    def summaries(self, limit: int = 30) -> list[dict[str, Any]]:
        shown = [e for e in self.exchanges if not _is_ping(e)]
        return [exchange.summary() for exchange in shown[-limit:]]


@dataclass
class Session:
    profile: Profile
    adapter: Adapter
    emulator: EmulatorHandle
    seed: int
    examples: int
    only: Sequence[str] = ()
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=60))
    _valid: dict[str, Observation] = field(default_factory=dict)
    _previous: dict[str, Any] = field(default_factory=dict)

    def production_rules(self) -> None:
        """Judge under what the real providers enforce: callback targets refused as production refuses them, image
        counts decided by the prompt, and only the harness's own key accepted; the harness's receivers are exempt
        (see `receiver`). `restore_rules` puts back what the emulator had before."""
        self._previous = self.emulator.set_policy()
        keys = [value for name, value in self.profile.credentials().items() if name == "api_key"]
        self.emulator.set_policy(strict=True, callback_exempt=[], image_count="prompt", api_keys=keys)

    def restore_rules(self) -> None:
        if self._previous:
            self.emulator.set_policy(**self._previous)

    @contextlib.contextmanager
    def receiver(self, status: int = 200) -> Iterator[WebhookSink]:
        """A webhook receiver of the harness's own, the one callback target exempt from production rules."""
        with WebhookSink(status) as sink:
            self.emulator.set_policy(callback_exempt=[sink.url])
            try:
                yield sink
            finally:
                self.emulator.set_policy(callback_exempt=[])

    def wants(self, check: str, case: str) -> bool:
        """Whether `check/case` was asked for (`--only` takes shell patterns such as `resilience/*`)."""
        return not self.only or any(fnmatch.fnmatchcase(f"{check}/{case}", pattern) for pattern in self.only)

    def request(self, body: Mapping[str, Any], timeout: float, webhook_url: str | None = None) -> GenerateRequest:
        return GenerateRequest(
            provider=self.profile.provider,
            base_url=self.profile.base_url(self.emulator),
            credentials=self.profile.credentials(),
            body=resolved(dict(body), self.emulator.base),
            timeout=timeout,
            webhook_url=webhook_url,
        )

    async def observe(
        self, request: GenerateRequest, faults: Sequence[Mapping[str, Any]] = (), during: Any = None
    ) -> Observation:
        """Run one request from a clean emulator, with `faults`, bounded by its timeout plus GRACE."""
        mark = await self.clean_start(faults)
        started = time.monotonic()
        hung = False
        task = asyncio.ensure_future(self.adapter.generate(request))
        try:
            if during is not None:
                await during()
            result = await asyncio.wait_for(
                asyncio.shield(task), max(0.1, request.timeout + GRACE - (time.monotonic() - started))
            )
        except TimeoutError:
            hung = True
            task.cancel()
            result = GenerateResult(
                failure=Failure("timeout", f"no answer within its {request.timeout:.0f} s timeout plus {GRACE:.0f} s")
            )
        except Exception as exc:  # the adapter itself broke: a crash, attributed to the client
            result = GenerateResult(
                failure=Failure("crash", f"{type(exc).__name__}: {exc}", exception=type(exc).__name__)
            )
        duration = time.monotonic() - started
        await asyncio.sleep(0.05)
        exchanges = self.emulator.exchanges(mark)
        journal = await asyncio.to_thread(self.emulator.journal)
        outcome = "hang" if hung else ("success" if result.ok else result.failure.kind if result.failure else "crash")
        return Observation(result, outcome, duration, exchanges, journal, hung)

    async def clean_start(self, faults: Sequence[Mapping[str, Any]] = ()) -> int:
        """Reset the emulator, add `faults`, and mark the traffic from here on."""
        await asyncio.to_thread(self.emulator.reset)
        for rule in faults:
            await asyncio.to_thread(self.emulator.add_fault, rule)
        return self.emulator.mark()

    async def valid_observations(self, check: str) -> list[tuple[Case, Observation]]:
        """The valid cases `check` wants, each run once and shared by the checks that judge them (wire, results)."""
        chosen = []
        for case in self.profile.valid_cases(self.seed, self.examples):
            if not self.wants(check, case.id):
                continue
            if case.id not in self._valid:
                observation = await self.observe(self.request(case.body, timeout=60.0))
                # Fetched now: the next case resets the emulator, which forgets these files.
                observation.evidence = await self.evidence(observation.result.images)
                self._valid[case.id] = observation
            chosen.append((case, self._valid[case.id]))
        return chosen

    async def evidence(self, images: list[ImageResult]) -> list[Evidence]:
        return [await self._evidence(image) for image in images]

    async def _evidence(self, image: ImageResult) -> Evidence:
        try:
            data = image.data if image.data is not None else await self._download(image.url)
        except Exception as exc:  # a URL that cannot be fetched is itself the finding
            return Evidence(None, None, f"cannot fetch {image.url}: {type(exc).__name__}: {exc}")
        try:
            metadata = read_metadata(data)
        except NotEvidence as exc:
            return Evidence(_thumbnail(data), None, f"not an emulator image: {exc}")
        return Evidence(_thumbnail(data), metadata)

    async def _download(self, url: str | None) -> bytes:
        if not url:
            raise ValueError("the image has neither bytes nor a URL")
        if url.startswith("data:"):
            return base64.b64decode(url.split(",", 1)[1])
        response = await self.http.get(url)
        response.raise_for_status()
        return response.content

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.adapter.aclose()


def prompt_digest(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def _thumbnail(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((THUMBNAIL, THUMBNAIL))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=70)
    except Exception:  # a thumbnail is a nicety; a broken image is reported by its metadata check
        return None
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def _is_ping(exchange: Exchange) -> bool:
    body = exchange.request_body if exchange.direction == "in" else exchange.response_body
    return b'"ping"' in body[:200]
