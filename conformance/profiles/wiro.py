"""Wiro: signed runs of bytedance/seedream-v4."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts.boundaries import example
from contracts.counts import ask
from contracts.wiro import rules

from ..handle import EmulatorHandle
from ..recorder import Exchange
from .base import (
    PROMPTS,
    Case,
    Expectation,
    Numbered,
    Scenario,
    common_scenarios,
    data_uri,
    drawn_outside,
    inside,
    mix,
    outside_cases,
    sample,
)

FACTS = "Wiro Seedream v4 model page (shared/providers/wiro.md)"
MODEL = f"{rules.MODEL['owner']}/{rules.MODEL['project']}"
TERMINAL = frozenset(rules.LIFECYCLE["terminal"])
DEV_PROJECT = {"api_key": "wiro-dev-key", "secret": "wiro-dev-secret"}

BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
PROPERTIES = rules.RUN["properties"]
# A reference the emulator reads as its own file (a fixture), as the contract's example names it.
REFERENCE = PROPERTIES["inputImage"]["items"]["examples"][0]
# References + maxImages may not pass this (the model page).
ROOM = rules.RULES["maxReferencesPlusImages"]


class WiroProfile:
    provider = "wiro"
    model = MODEL
    signs_webhooks = False

    def base_url(self, emulator: EmulatorHandle) -> str:
        return f"{emulator.url('wiro')}/v1"

    def credentials(self) -> dict[str, str]:
        return dict(DEV_PROJECT)

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        # maxImages is only the upper bound: the prompt says how many (the model page's help text).
        return {**BASE, "prompt": ask(prompt, images), "size": rules.size(BASE), "maxImages": images}

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "callbackUrl": url}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        limits = [self._expected(number(), inside(b), b.apply(BASE, "inside")) for b in rules.boundaries()]
        others = [
            self._case(
                number(),
                "maxImages at its maximum, the prompt asks for as many",
                prompt=ask("a lighthouse", rules.MAX_IMAGES),
                maxImages=rules.MAX_IMAGES,
            ),
            self._case(
                number(), "maxImages 5, the prompt asks for no number", prompt="a quiet harbour at dawn", maxImages=5
            ),
            self._case(
                number(), "the prompt asks for 4, maxImages 2 caps it", prompt=ask("paper lanterns", 4), maxImages=2
            ),
            self._case(
                number(),
                "as many input image files as allowed, as multipart file parts",
                inputImage=_files(rules.MAX_INPUT_IMAGES),
            ),
            self._case(
                number(),
                "2 input image files, the prompt asks for 3, maxImages fills the room left",
                prompt=ask("a collage", 3),
                inputImage=_files(2),
                maxImages=ROOM - 2,
            ),
            self._case(
                number(),
                "CJK prompt asking for two, watermark on",
                prompt="一只在雪中的红狐狸，生成两张图片",
                watermark="true",
                maxImages=3,
            ),
        ]
        return mix(limits + others, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        boundaries = rules.boundaries()
        limits = outside_cases(boundaries, BASE, number)
        others = [
            Case(number(), "no prompt", {k: v for k, v in BASE.items() if k != "prompt"}, violates="prompt required"),
            Case(
                number(),
                "one input image file more than allowed, as multipart file parts",
                {**BASE, "inputImage": _files(rules.MAX_INPUT_IMAGES + 1)},
                violates=f"/inputImage maxItems {rules.MAX_INPUT_IMAGES}",
            ),
        ]
        return limits + others + drawn_outside(boundaries, BASE, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "wiro", "route": "POST /v1/Run/*"}
        poll = {"surface": "wiro", "route": "POST /v1/Task/Detail"}
        return common_scenarios(self.provider, create, poll, FACTS)

    def polled_job(self, exchange: Exchange) -> str | None:
        if exchange.method != "POST" or not exchange.path.endswith("/Task/Detail"):
            return None
        body = exchange.request_json()
        if isinstance(body, dict):
            return str(body.get("taskid") or body.get("tasktoken") or "?")
        return "?"

    def terminal_job(self, exchange: Exchange) -> str | None:
        reply = exchange.response_json()
        tasks = reply.get("tasklist") if isinstance(reply, dict) else None
        if tasks and isinstance(tasks[0], dict) and tasks[0].get("status") in TERMINAL:
            return str(tasks[0].get("id"))
        return None

    def _case(self, case_id: str, title: str, *, prompt: str | None = None, **fields: Any) -> Case:
        return self._expected(case_id, title, {**BASE, "prompt": prompt or title, **fields})

    def _expected(self, case_id: str, title: str, body: Mapping[str, Any]) -> Case:
        width, height = rules.dimensions(rules.size(body))
        references = body.get("inputImage")
        expect = Expectation(
            rules.image_count(body),
            width,
            height,
            rules.MODEL["outputFormat"],
            body["prompt"],
            MODEL,
            # Wiro records the references a task ran with; the caller's count must reach it.
            reference_count=len(references) if references is not None else None,
        )
        return Case(case_id, title, body, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.integers(0, rules.MAX_INPUT_IMAGES).flatmap(
            lambda references: st.tuples(
                PROMPTS,
                st.sampled_from(rules.SIZES),
                st.integers(rules.MIN_IMAGES, 4),
                st.integers(rules.MIN_IMAGES, max(rules.MIN_IMAGES, min(3, ROOM - references))),
                st.sampled_from(PROPERTIES["watermark"]["enum"]),
                st.just(references),
            )
        )
        cases = []
        for prompt, size, asked, cap, watermark, references in sample(drawn, count, seed):
            fields: dict[str, Any] = {"size": size, "maxImages": cap, "watermark": watermark}
            if references:
                fields["inputImage"] = [REFERENCE] * references
            title = f"{size}, asks {asked}, maxImages {cap}, {references} reference(s)"
            cases.append(self._case(number(), title, prompt=ask(prompt, asked), **fields))
        return cases


def _files(count: int) -> list[str]:
    """Local image files, as data URIs (a JSON body cannot carry files): a client sends each as a multipart
    `inputImage` file part, as the seed's curl sample does, or uploads it with File/Upload and sends the URL."""
    return [data_uri(24 + index, 16) for index in range(count)]


PROFILE = WiroProfile()
