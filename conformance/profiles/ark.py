"""Ark (BytePlus ModelArk, Volcengine Ark): synchronous image generation for Seedream 4.0 and 4.5."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts.ark import rules
from contracts.boundaries import example
from contracts.counts import ask
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
    inside,
    mix,
    outside_cases,
    sample,
)

FACTS = "BytePlus ModelArk image generation API (docs/ark.md)"
# Ark answers in the generation reply: the scenarios that act on a poll have nothing to act on.
NO_POLL = frozenset({"poll_error", "connection_reset"})
BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
MODEL_45 = next(model for model, about in rules.MODELS.items() if about["family"] == "4.5")
LIMITS_40 = rules.FAMILIES["4.0"]
# Sides whose every pairing stays within Seedream 4.0's pixel and aspect bounds.
SIDES = st.integers(math.isqrt(LIMITS_40["minPixels"] - 1) + 1, math.isqrt(LIMITS_40["maxPixels"]))
MAX_IMAGES = rules.OPTIONS["max_images"]


class ArkProfile:
    provider = "ark"
    model = rules.MODEL
    signs_webhooks = False
    # No job to poll: the generation reply carries the images (the mutation suite skips the polling mutants).
    polls = False

    def base_url(self, emulator: EmulatorHandle) -> str:
        return emulator.url("ark") + "/api/v3"

    def credentials(self) -> dict[str, str]:
        return {"api_key": "conformance-key"}

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        body: dict[str, Any] = {"model": rules.MODEL, "prompt": ask(prompt, images), "size": "1K"}
        if images > 1:
            body["sequential_image_generation"] = "auto"
            body["sequential_image_generation_options"] = {"max_images": images}
        return body

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return dict(body)  # Ark has no webhooks

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        limits = [self._expected(number(), inside(b), b.apply(BASE, "inside")) for b in rules.boundaries()]
        others = [
            self._case(number(), "default size (2048x2048)"),
            self._case(number(), "Seedream 4.5 at 2K", model=MODEL_45, size="2K"),
            self._case(number(), "an endpoint ID, 1K", model="ep-20250828123456-abcde", size="1K"),
            self._case(number(), "b64_json at 1K", response_format="b64_json", size="1K"),
            self._case(
                number(),
                "1K from a 9:16 reference URL, CJK prompt",
                prompt="東京の夜景、ネオン",
                size="1K",
                reference=(180, 320),
            ),
            self._case(number(), "a seed and no watermark", seed=20251128, watermark=False, size="1K"),
            self._case(
                number(),
                "a group: max_images 4, the prompt asks for 3",
                prompt=ask("a harbour at dawn", 3),
                size="1K",
                sequential_image_generation="auto",
                sequential_image_generation_options={"max_images": 4},
            ),
            self._case(
                number(),
                "a group whose prompt asks for none",
                size="1K",
                sequential_image_generation="auto",
                sequential_image_generation_options={"max_images": 2},
            ),
        ]
        return mix(limits + others, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        boundaries = rules.boundaries()
        return outside_cases(boundaries, BASE, number) + drawn_outside(boundaries, BASE, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "ark", "route": "POST /api/v3/images/generations"}
        return [s for s in common_scenarios(self.provider, create, create, FACTS) if s.id not in NO_POLL]

    def polled_job(self, exchange: Exchange) -> str | None:
        return None

    def terminal_job(self, exchange: Exchange) -> str | None:
        return None

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
            body["image"] = [fixture_url(*reference)]
        return self._expected(case_id, title, body)

    def _expected(self, case_id: str, title: str, body: Mapping[str, Any]) -> Case:
        given = rules.references(body)
        first = next(filter(None, map(fixture_size, given)), None)
        width, height = rules.output_size(body, first)
        seed = body.get("seed")
        expect = Expectation(
            rules.image_count(body),
            width,
            height,
            rules.RULES["output"]["format"],
            body["prompt"],
            rules.runs_as(body["model"]),
            seed=seed if isinstance(seed, int) and seed >= 0 else None,
            reference_count=len(given) if "image" in body else None,
        )
        return Case(case_id, title, body, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.tuples(
            PROMPTS,
            st.integers(MAX_IMAGES["minimum"], 4),
            st.one_of(
                st.sampled_from([{"size": "1K"}, {"size": "2K"}]),
                st.builds(lambda w, h: {"size": f"{w}x{h}"}, SIDES, SIDES),
            ),
        )
        return [
            self._case(
                number(),
                f"a group of at most {most}, {size}",
                prompt=prompt,
                sequential_image_generation="auto",
                sequential_image_generation_options={"max_images": most},
                **size,
            )
            for prompt, most, size in sample(drawn, count, seed)
        ]


PROFILE = ArkProfile()
