"""EvoLink: image generation tasks for doubao-seedream-4.0."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts.boundaries import example
from contracts.counts import ask
from contracts.evolink import rules
from contracts.fixtures import fixture_size

from ..fixtures import fixture_url
from ..handle import EmulatorHandle
from ..recorder import Exchange
from .base import (
    PROMPTS,
    Case,
    Expectation,
    Numbered,
    Scenario,
    common_scenarios,
    drawn_outside,
    finished_by_status,
    inside,
    mix,
    outside_cases,
    polled_by_path,
    sample,
)

FACTS = "EvoLink Seedream 4.0 docs (shared/providers/evolink.md)"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
TASK_PATH = re.compile(r"/v1/tasks/(?P<id>[^/?]+)$")
RATIOS = list(rules.RULES["sizeTable"])


BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
N = rules.REQUEST["properties"]["n"]
PIXELS = rules.RULES["pixelSize"]
# Sides whose every pairing stays within the pixel and aspect bounds.
SIDES = st.integers(math.isqrt(PIXELS["minPixels"] - 1) + 1, math.isqrt(PIXELS["maxPixels"]))


class EvoLinkProfile:
    provider = "evolink"
    model = rules.MODEL
    signs_webhooks = False

    def base_url(self, emulator: EmulatorHandle) -> str:
        return emulator.url("evolink")

    def credentials(self) -> dict[str, str]:
        return {"api_key": "conformance-key"}

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        return {"model": rules.MODEL, "prompt": ask(prompt, images), "n": images, "size": "1:1", "quality": "1K"}

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "callback_url": url}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        limits = [self._expected(number(), inside(b), b.apply(BASE, "inside")) for b in rules.boundaries()]
        others = [
            self._case(number(), "default size (auto, 2K)"),
            self._case(number(), "21:9 at 4K", size="21:9", quality="4K"),
            self._case(
                number(),
                "auto size from a 9:16 reference URL, CJK prompt",
                prompt="東京の夜景、ネオン",
                reference=(180, 320),
            ),
            self._case(
                number(),
                "n = 4 and the prompt asks for 3",
                prompt=ask("a harbour at dawn", 3),
                n=4,
                size="1:1",
                quality="1K",
            ),
            self._case(number(), "n = 2 and the prompt asks for none", n=2, size="1:1", quality="1K"),
        ]
        return mix(limits + others, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        boundaries = rules.boundaries()
        return outside_cases(boundaries, BASE, number) + drawn_outside(boundaries, BASE, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "evolink", "route": "POST /v1/images/generations"}
        poll = {"surface": "evolink", "route": "GET /v1/tasks/*"}
        return common_scenarios(self.provider, create, poll, FACTS)

    def polled_job(self, exchange: Exchange) -> str | None:
        return polled_by_path(TASK_PATH, exchange)

    def terminal_job(self, exchange: Exchange) -> str | None:
        return finished_by_status(exchange, TERMINAL)

    def _case(
        self,
        case_id: str,
        title: str,
        *,
        prompt: str | None = None,
        reference: tuple[int, int] | None = None,
        **fields: Any,
    ) -> Case:
        body = {"model": rules.MODEL, "prompt": prompt or title, **fields}
        if reference:
            body["image_urls"] = [fixture_url(*reference)]
        return self._expected(case_id, title, body)

    def _expected(self, case_id: str, title: str, body: Mapping[str, Any]) -> Case:
        first = next(filter(None, map(fixture_size, body.get("image_urls") or [])), None)
        width, height = rules.output_size(body, first)
        expect = Expectation(
            rules.image_count(body),
            width,
            height,
            rules.RULES["output"]["format"],
            body["prompt"],
            rules.MODEL,
            reference_count=len(body["image_urls"]) if "image_urls" in body else None,
        )
        return Case(case_id, title, body, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.tuples(
            PROMPTS,
            st.integers(N["minimum"], min(4, N["maximum"])),
            st.one_of(
                st.builds(
                    lambda r, q: {"size": r, "quality": q}, st.sampled_from(RATIOS), st.sampled_from(["1K", "2K"])
                ),
                st.builds(lambda w, h: {"size": f"{w}x{h}"}, SIDES, SIDES),
            ),
        )
        return [
            self._case(number(), f"n = {n}, {size}", prompt=prompt, n=n, **size)
            for prompt, n, size in sample(drawn, count, seed)
        ]


PROFILE = EvoLinkProfile()
