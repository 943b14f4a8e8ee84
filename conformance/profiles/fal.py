"""fal: the queue API of the Seedream 4.0 and 4.5 apps (`fal-ai/bytedance/seedream/...`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts.boundaries import example
from contracts.counts import ask
from contracts.fal import rules
from contracts.fixtures import fixture_size
from contracts.seeds import DRAWN_SPACE

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

FACTS = "fal queue API and Seedream app pages (docs/fal.md)"
APP = rules.DEFAULT_APP
EDIT = "fal-ai/bytedance/seedream/v4/edit"
APP_45 = "fal-ai/bytedance/seedream/v4.5/text-to-image"
EDIT_45 = "fal-ai/bytedance/seedream/v4.5/edit"
BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
SIZES = list(rules.PRESETS)
MAX_IMAGES = rules.CONTRACT.schema("common")["$defs"]["maxImages"]


def wrap(app: str) -> Any:
    return lambda body: {"app": app, "input": body}


class FalProfile:
    provider = "fal"
    model = rules.APPS[APP]["model"]
    signs_webhooks = False

    def base_url(self, emulator: EmulatorHandle) -> str:
        return emulator.url("fal")

    def credentials(self) -> dict[str, str]:
        return {"api_key": "conformance-id:conformance-secret"}

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        return {"app": APP, "input": {"prompt": ask(prompt, images), "max_images": images, "image_size": "square_hd"}}

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "webhook": url}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        limits = [self._case(number(), inside(b), APP, b.apply(BASE, "inside")) for b in rules.boundaries()]
        others = [
            self._case(number(), "default size (2048x2048)", APP, {"prompt": "a harbour at dawn"}),
            self._case(
                number(), "square preset scaled up to the minimum area", APP, {"prompt": "x", "image_size": "square"}
            ),
            self._case(
                number(),
                "edit with a 9:16 reference, auto_2K",
                EDIT,
                {"prompt": "東京の夜景、ネオン", "image_urls": [fixture_url(180, 320)], "image_size": "auto_2K"},
            ),
            self._case(
                number(),
                "two generations, the prompt asks for 2 each",
                APP,
                {"prompt": ask("a lighthouse", 2), "num_images": 2, "max_images": 3, "image_size": "square_hd"},
            ),
            self._case(
                number(), "4.5 text-to-image, landscape preset", APP_45, {"prompt": "x", "image_size": "landscape_16_9"}
            ),
            self._case(
                number(),
                "4.5 edit with a seed",
                EDIT_45,
                {"prompt": "a red fox", "image_urls": [fixture_url(64, 64)], "seed": 42, "image_size": "square_hd"},
            ),
        ]
        return mix(limits + others, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        boundaries = rules.boundaries()
        return outside_cases(boundaries, BASE, number, wrap(APP)) + drawn_outside(
            boundaries, BASE, number, seed, count, wrap(APP)
        )

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "fal", "route": "POST /queue/*"}
        poll = {"surface": "fal", "route": "GET /queue/*/status"}
        return common_scenarios(self.provider, create, poll, FACTS)

    def polled_job(self, exchange: Exchange) -> str | None:
        parts = exchange.path.rstrip("/").split("/")
        if exchange.method == "GET" and len(parts) >= 3 and parts[-1] == "status" and parts[-3] == "requests":
            return parts[-2]
        return None

    def terminal_job(self, exchange: Exchange) -> str | None:
        reply = exchange.response_json()
        if isinstance(reply, dict) and reply.get("status") == "COMPLETED":
            return str(reply.get("request_id"))
        return None

    def _case(self, case_id: str, title: str, app: str, body: Mapping[str, Any]) -> Case:
        first = next(filter(None, map(fixture_size, rules.references(body))), None)
        width, height = rules.output_size(body, app, first)
        expect = Expectation(
            rules.image_count(body, app),
            width,
            height,
            rules.OUTPUT["format"],
            body["prompt"],
            rules.APPS[app]["model"],
            seed=body["seed"] % DRAWN_SPACE if isinstance(body.get("seed"), int) else None,
            reference_count=len(rules.references(body)) if "image_urls" in body else None,
        )
        return Case(case_id, title, {"app": app, "input": dict(body)}, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.tuples(
            PROMPTS,
            st.integers(MAX_IMAGES["minimum"], 3),
            st.sampled_from(SIZES),
            st.sampled_from([APP, APP_45]),
        )
        return [
            self._case(
                number(),
                f"max_images = {most}, {size}, {app}",
                app,
                {"prompt": p, "max_images": most, "image_size": size},
            )
            for p, most, size, app in sample(drawn, count, seed)
        ]


PROFILE = FalProfile()
