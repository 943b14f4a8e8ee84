"""EvoLink: image generation tasks for doubao-seedream-4.0."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts.counts import ask
from contracts.evolink import rules

from ..fixtures import fixture_url
from ..handle import EmulatorHandle
from ..recorder import Exchange
from .base import (
    BOUNDARY_PROMPT,
    PROMPTS,
    Case,
    Expectation,
    Mutation,
    Numbered,
    Scenario,
    common_scenarios,
    finished_by_status,
    mix,
    mutated,
    polled_by_path,
    sample,
)

FACTS = "EvoLink Seedream 4.0 docs (shared/providers/evolink.md)"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
TASK_PATH = re.compile(r"/v1/tasks/(?P<id>[^/?]+)$")
RATIOS = list(rules.RULES["sizeTable"])


MUTATIONS = [
    Mutation(("prompt",), st.text(min_size=2001, max_size=2600), "prompt <= 2000"),
    Mutation(("n",), st.integers(max_value=0) | st.integers(min_value=16), "n 1..15"),
    Mutation(("size",), st.builds(lambda w, h: f"{w}x{h}", st.integers(1, 1000), st.integers(1, 700)), "WxH pixel bounds"),
    Mutation(("quality",), st.text(min_size=1, max_size=4).filter(lambda q: q not in ("1K", "2K", "4K")), "quality 1K|2K|4K"),
]


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
        boundaries = [
            self._case(number(), "default size (auto, 2K)"),
            self._case(number(), "2000-character prompt, 16:9 at 1K", prompt=BOUNDARY_PROMPT, size="16:9", quality="1K"),
            self._case(number(), "n = 15 at 1K", n=15, size="1:1", quality="1K"),
            self._case(number(), "lower pixel bound 1280x720", size="1280x720"),
            self._case(number(), "upper pixel bound 4096x4096", size="4096x4096"),
            self._case(number(), "21:9 at 4K", size="21:9", quality="4K"),
            self._case(number(), "14 reference URLs, n = 1", image_urls=_urls(14)),
            self._case(number(), "auto size from a 9:16 reference URL, CJK prompt", prompt="東京の夜景、ネオン", reference=(180, 320)),
            self._case(number(), "n = 4 and the prompt asks for 3", prompt=ask("a harbour at dawn", 3), n=4, size="1:1", quality="1K"),
            self._case(number(), "n = 2 and the prompt asks for none", n=2, size="1:1", quality="1K"),
        ]
        return mix(boundaries, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        good = {"model": rules.MODEL, "prompt": "a paper lantern"}
        cases = [
            Case(number(), "prompt of 2001 characters", {**good, "prompt": "x" * 2001}, violates="prompt <= 2000"),
            Case(number(), "n = 16", {**good, "n": 16}, violates="n 1..15"),
            Case(number(), "n = 0", {**good, "n": 0}, violates="n 1..15"),
            Case(number(), "an undocumented ratio 7:5", {**good, "size": "7:5"}, violates="size ratios"),
            Case(number(), "1000x700 is below 1280x720 pixels", {**good, "size": "1000x700"}, violates="WxH pixel bounds"),
            Case(number(), "aspect 17:1", {**good, "size": "4080x240"}, violates="aspect 1/16..16"),
            Case(number(), "15 reference images", {**good, "image_urls": _urls(15)}, violates="image_urls <= 14"),
            Case(number(), "quality 8K", {**good, "quality": "8K"}, violates="quality 1K|2K|4K"),
            Case(number(), "unknown model", {**good, "model": "doubao-seedream-9"}, violates="model"),
            Case(number(), "callback URL of 2049 characters", {**good, "callback_url": "https://h.example/" + "a" * 2031}, violates="callback_url <= 2048"),
        ]
        return cases + mutated(good, MUTATIONS, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "evolink", "route": "POST /v1/images/generations"}
        poll = {"surface": "evolink", "route": "GET /v1/tasks/*"}
        return common_scenarios(self.provider, create, poll, FACTS)

    def polled_job(self, exchange: Exchange) -> str | None:
        return polled_by_path(TASK_PATH, exchange)

    def terminal_job(self, exchange: Exchange) -> str | None:
        return finished_by_status(exchange, TERMINAL)

    def _case(self, case_id: str, title: str, *, prompt: str | None = None,
              reference: tuple[int, int] | None = None, **fields: Any) -> Case:
        body = {"model": rules.MODEL, "prompt": prompt or title, **fields}
        first = (64, 64) if fields.get("image_urls") else None  # _urls() gives 64x64 fixtures
        if reference:
            body["image_urls"] = [fixture_url(*reference)]
            first = reference
        width, height = rules.output_size(body, first)
        expect = Expectation(rules.image_count(body), width, height, rules.RULES["output"]["format"], body["prompt"], rules.MODEL)
        return Case(case_id, title, body, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.tuples(
            PROMPTS,
            st.integers(1, 4),
            st.one_of(
                st.builds(lambda r, q: {"size": r, "quality": q}, st.sampled_from(RATIOS), st.sampled_from(["1K", "2K"])),
                st.builds(lambda w, h: {"size": f"{w}x{h}"}, st.integers(1280, 3000), st.integers(720, 3000)),
            ),
        )
        return [
            self._case(number(), f"n = {n}, {size}", prompt=prompt, n=n, **size)
            for prompt, n, size in sample(drawn, count, seed)
        ]


def _urls(count: int) -> list[str]:
    return [fixture_url(64, 64)] * count


PROFILE = EvoLinkProfile()
