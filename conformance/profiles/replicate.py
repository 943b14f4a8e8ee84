"""Replicate: predictions of bytedance/seedream-4."""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Mapping
from typing import Any

import httpx
from hypothesis import strategies as st
from PIL import Image

from contracts import counts
from contracts.boundaries import example
from contracts.fixtures import fixture_size
from contracts.replicate import rules

from ..fixtures import fixture_url
from ..handle import EmulatorHandle
from ..recorder import Exchange
from ..webhooks import StandardWebhooks, WebhookSigning
from .base import (
    PROMPTS,
    Case,
    Expectation,
    Numbered,
    Scenario,
    common_scenarios,
    data_uri,
    drawn_outside,
    finished_by_status,
    inside,
    mix,
    outside_cases,
    polled_by_path,
    sample,
)

FACTS = "Replicate bytedance/seedream-4 (shared/providers/replicate.md)"
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
PREDICTION_PATH = re.compile(r"/v1/predictions/(?P<id>[^/?]+)$")

BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
FIELDS = rules.INPUT["properties"]
TABLE: Mapping[str, Mapping[str, list[int]]] = rules.RULES["sizeTable"]
TIERS = list(TABLE)
# Tiers by their pixels at the aspect ratio a request without inputs gets.
SMALLEST, LARGEST = (
    pick(TIERS, key=lambda tier: math.prod(TABLE[tier][rules.RULES["fallbackAspectRatio"]])) for pick in (min, max)
)
# Custom sides, every pairing allowed; drawn counts stay small (each image is rendered and read back).
WIDTHS = st.integers(FIELDS["width"]["minimum"], FIELDS["width"]["maximum"])
HEIGHTS = st.integers(FIELDS["height"]["minimum"], FIELDS["height"]["maximum"])
IMAGES = st.integers(FIELDS["max_images"]["minimum"], min(3, FIELDS["max_images"]["maximum"]))


class ReplicateProfile:
    provider = "replicate"
    model = rules.MODEL_REF
    signs_webhooks = True

    def base_url(self, emulator: EmulatorHandle) -> str:
        return emulator.url("replicate")

    def credentials(self) -> dict[str, str]:
        return {"api_key": "r8_conformance"}

    def webhook_signing(self, emulator: EmulatorHandle) -> WebhookSigning:
        """Standard Webhooks with the secret the API hands out, as a client would fetch it."""
        response = httpx.get(
            f"{self.base_url(emulator)}/v1/webhooks/default/secret",
            headers={"Authorization": f"Bearer {self.credentials()['api_key']}"},
            timeout=10,
        )
        signing = rules.RULES["webhooks"]["signing"]
        return StandardWebhooks(response.raise_for_status().json()["key"], tolerance=signing["toleranceSeconds"])

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        # `auto` lets the model decide: the prompt asks for the images, `max_images` caps them.
        input_: dict[str, Any] = {"prompt": counts.ask(prompt, images), "size": SMALLEST}
        if images > 1:
            input_.update(sequential_image_generation=rules.RULES["autoSequential"], max_images=images)
        return {"input": input_}

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "webhook": url, "webhook_events_filter": ["completed"]}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        limits = [self._expected(number(), inside(b), b.apply(BASE, "inside")) for b in rules.boundaries()]
        auto = {"sequential_image_generation": rules.RULES["autoSequential"], "size": SMALLEST}
        others = [
            self._case(number(), "defaults: no size, aspect ratio or input"),
            self._case(number(), f"{LARGEST} 16:9", size=LARGEST, aspect_ratio="16:9"),
            self._case(
                number(),
                "auto, the prompt asks for 3 of at most 8",
                prompt=counts.ask("a comic", 3),
                max_images=8,
                **auto,
            ),
            self._case(number(), "auto, the prompt names no count", prompt="a fox in the snow", max_images=4, **auto),
            self._case(
                number(),
                "match_input_image with a 9:16 data URI",
                aspect_ratio=rules.RULES["matchInputImage"],
                image_input=[data_uri(180, 320)],
            ),
            self._case(
                number(),
                "match_input_image with a 4:3 file URL",
                aspect_ratio=rules.RULES["matchInputImage"],
                image_input=[fixture_url(400, 300, "jpg")],
            ),
        ]
        return mix(limits + others, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        boundaries = rules.boundaries()
        cases = outside_cases(boundaries, BASE, number)
        cases.append(Case(number(), "no prompt", {"input": {"size": SMALLEST}}, violates="/input/prompt required"))
        return cases + drawn_outside(boundaries, BASE, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "replicate", "route": "POST /v1/*predictions"}
        poll = {"surface": "replicate", "route": "GET /v1/predictions/*"}
        return common_scenarios(self.provider, create, poll, FACTS)

    def polled_job(self, exchange: Exchange) -> str | None:
        return polled_by_path(PREDICTION_PATH, exchange)

    def terminal_job(self, exchange: Exchange) -> str | None:
        return finished_by_status(exchange, TERMINAL)

    def _case(self, case_id: str, title: str, *, prompt: str | None = None, **fields: Any) -> Case:
        return self._expected(case_id, title, {"input": {"prompt": prompt or title, **fields}})

    def _expected(self, case_id: str, title: str, body: Mapping[str, Any]) -> Case:
        input_ = body["input"]
        references = rules.image_inputs(input_)
        first = _size_of(references[0]) if references else None
        width, height = rules.output_size(input_, first)
        expect = Expectation(
            rules.image_count(input_),
            width,
            height,
            rules.RULES["output"]["format"],
            input_["prompt"],
            rules.MODEL_REF,
            reference_count=len(references) if "image_input" in input_ else None,
        )
        return Case(case_id, title, body, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        tiered = st.sampled_from(TIERS).flatmap(
            lambda tier: st.builds(
                lambda ratio: {"size": tier, "aspect_ratio": ratio}, st.sampled_from(list(TABLE[tier]))
            )
        )
        custom = st.builds(lambda w, h: {"size": rules.RULES["customSize"], "width": w, "height": h}, WIDTHS, HEIGHTS)
        drawn = st.tuples(PROMPTS, tiered | custom, IMAGES)
        cases = []
        for prompt, size, images in sample(drawn, count, seed):
            fields = dict(size)
            if images > 1:
                fields.update(sequential_image_generation=rules.RULES["autoSequential"], max_images=images)
            cases.append(
                self._case(number(), f"{size}, {images} image(s)", prompt=counts.ask(prompt, images), **fields)
            )
        return cases


def _size_of(reference: str) -> tuple[int, int] | None:
    """The pixel size of a reference the case names: a fixture URL, or a data URI it made."""
    if reference.startswith("data:"):
        with Image.open(io.BytesIO(base64.b64decode(reference.partition(",")[2]))) as image:
            return image.size
    return fixture_size(reference)


PROFILE = ReplicateProfile()
