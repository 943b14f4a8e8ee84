"""Replicate: predictions of bytedance/seedream-4."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts import counts
from contracts.replicate import rules

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
    data_uri,
    finished_by_status,
    mix,
    mutated,
    polled_by_path,
    sample,
)

FACTS = "Replicate bytedance/seedream-4 (shared/providers/replicate.md)"
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
PREDICTION_PATH = re.compile(r"/v1/predictions/(?P<id>[^/?]+)$")
ASPECTS = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9"]


MUTATIONS = [
    Mutation(
        ("input", "size"),
        st.text(min_size=1, max_size=6).filter(lambda s: s not in ("1K", "2K", "4K", "custom")),
        "size enum",
    ),
    Mutation(("input", "max_images"), st.integers(max_value=0) | st.integers(min_value=16), "max_images 1..15"),
    Mutation(
        ("input", "aspect_ratio"),
        st.text(min_size=1, max_size=6).filter(lambda a: a not in ASPECTS and a != "match_input_image"),
        "aspect_ratio enum",
    ),
    Mutation(
        ("input", "sequential_image_generation"),
        st.text(min_size=1, max_size=8).filter(lambda a: a not in ("disabled", "auto")),
        "disabled|auto",
    ),
]


class ReplicateProfile:
    provider = "replicate"
    model = rules.MODEL_REF
    signs_webhooks = True

    def base_url(self, emulator: EmulatorHandle) -> str:
        return emulator.url("replicate")

    def credentials(self) -> dict[str, str]:
        return {"api_key": "r8_conformance"}

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        # `auto` lets the model decide: the prompt asks for the images, `max_images` caps them.
        input_: dict[str, Any] = {"prompt": counts.ask(prompt, images), "size": "1K"}
        if images > 1:
            input_.update(sequential_image_generation="auto", max_images=images)
        return {"input": input_}

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "webhook": url, "webhook_events_filter": ["completed"]}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        boundaries = [
            self._case(number(), "default 2K square"),
            self._case(number(), "long prompt, 1K 21:9", prompt=BOUNDARY_PROMPT, size="1K", aspect_ratio="21:9"),
            self._case(number(), "custom 1024x4096", size="custom", width=1024, height=4096),
            self._case(
                number(),
                "auto, the prompt asks for 15",
                prompt=counts.ask("a storyboard", 15),
                size="1K",
                sequential_image_generation="auto",
                max_images=15,
            ),
            self._case(
                number(),
                "auto, the prompt asks for 3 of at most 8",
                prompt=counts.ask("a comic", 3),
                size="1K",
                sequential_image_generation="auto",
                max_images=8,
            ),
            self._case(
                number(),
                "auto, the prompt names no count",
                prompt="a fox in the snow",
                size="1K",
                sequential_image_generation="auto",
                max_images=4,
            ),
            self._case(number(), "4K 16:9", size="4K", aspect_ratio="16:9"),
            self._case(
                number(), "match_input_image with a 9:16 data URI", aspect_ratio="match_input_image", inline=(180, 320)
            ),
            self._case(number(), "10 image inputs (data URIs)", inline=(64, 48), inputs=10, size="1K"),
        ]
        return mix(boundaries, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        good = {"prompt": "a red fox in snow"}
        cases = [
            Case(number(), "no prompt", {"input": {"size": "2K"}}, violates="prompt required"),
            Case(number(), "size 8K", {"input": {**good, "size": "8K"}}, violates="size enum"),
            Case(
                number(),
                "custom width 4097",
                {"input": {**good, "size": "custom", "width": 4097, "height": 1024}},
                violates="width 1024..4096",
            ),
            Case(
                number(),
                "max_images 16",
                {"input": {**good, "sequential_image_generation": "auto", "max_images": 16}},
                violates="max_images 1..15",
            ),
            Case(
                number(), "aspect ratio 5:4", {"input": {**good, "aspect_ratio": "5:4"}}, violates="aspect_ratio enum"
            ),
            Case(
                number(),
                "sequential generation 'always'",
                {"input": {**good, "sequential_image_generation": "always"}},
                violates="disabled|auto",
            ),
        ]
        return cases + mutated({"input": good}, MUTATIONS, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "replicate", "route": "POST /v1/*predictions"}
        poll = {"surface": "replicate", "route": "GET /v1/predictions/*"}
        return common_scenarios(self.provider, create, poll, FACTS)

    def polled_job(self, exchange: Exchange) -> str | None:
        return polled_by_path(PREDICTION_PATH, exchange)

    def terminal_job(self, exchange: Exchange) -> str | None:
        return finished_by_status(exchange, TERMINAL)

    def _case(
        self,
        case_id: str,
        title: str,
        *,
        prompt: str | None = None,
        inline: tuple[int, int] | None = None,
        inputs: int = 1,
        **fields: Any,
    ) -> Case:
        input_ = {"prompt": prompt or title, **fields}
        first = None
        if inline:
            # Data URIs: public URLs cannot be downloaded offline (a journal warning), and loopback ones are
            # out of the real provider's reach.
            input_["image_input"] = [data_uri(*inline)] * inputs
            first = inline
        width, height = rules.output_size(input_, first)
        expect = Expectation(
            rules.image_count(input_), width, height, rules.RULES["output"]["format"], input_["prompt"], rules.MODEL_REF
        )
        return Case(case_id, title, {"input": input_}, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.tuples(
            PROMPTS,
            st.one_of(
                st.builds(
                    lambda s, a: {"size": s, "aspect_ratio": a}, st.sampled_from(["1K", "2K"]), st.sampled_from(ASPECTS)
                ),
                st.builds(
                    lambda w, h: {"size": "custom", "width": w, "height": h},
                    st.integers(1024, 2048),
                    st.integers(1024, 2048),
                ),
            ),
            st.integers(1, 3),
        )
        cases = []
        for prompt, size, images in sample(drawn, count, seed):
            fields = dict(size)
            if images > 1:
                fields.update(sequential_image_generation="auto", max_images=images)
            cases.append(
                self._case(number(), f"{size}, {images} image(s)", prompt=counts.ask(prompt, images), **fields)
            )
        return cases


PROFILE = ReplicateProfile()
