"""Wiro: signed runs of bytedance/seedream-v4."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts.counts import ask
from contracts.wiro import rules

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
    mix,
    mutated,
    sample,
)

FACTS = "Wiro Seedream v4 model page (shared/providers/wiro.md)"
MODEL = f"{rules.MODEL['owner']}/{rules.MODEL['project']}"
TERMINAL = frozenset(rules.LIFECYCLE["terminal"])
DEV_PROJECT = {"api_key": "wiro-dev-key", "secret": "wiro-dev-secret"}


MUTATIONS = [
    Mutation(("maxImages",), st.integers(max_value=0) | st.integers(min_value=16), "maxImages 1..15"),
    Mutation(
        ("size",),
        st.builds(lambda w, h: f"{w}x{h}", st.integers(1, 8192), st.integers(1, 8192)).filter(
            lambda s: s not in rules.SIZES
        ),
        "size enum",
    ),
    Mutation(
        ("watermark",),
        st.text(min_size=1, max_size=6).filter(lambda w: w not in ("true", "false")),
        "watermark true|false",
    ),
]


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
        return {"prompt": ask(prompt, images), "size": "2048x2048", "maxImages": images}

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "callbackUrl": url}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        boundaries = [
            self._case(number(), "seed page defaults"),
            self._case(number(), "2000-character prompt", prompt=BOUNDARY_PROMPT, size="3024x1296"),
            self._case(
                number(),
                "maxImages 15, the prompt asks for 15",
                prompt=ask("a lighthouse", 15),
                maxImages=15,
                size="1440x2560",
            ),
            self._case(
                number(), "maxImages 5, the prompt asks for no number", prompt="a quiet harbour at dawn", maxImages=5
            ),
            self._case(
                number(), "the prompt asks for 4, maxImages 2 caps it", prompt=ask("paper lanterns", 4), maxImages=2
            ),
            self._case(number(), "14 input image files + maxImages 1", inputImage=_files(14)),
            self._case(
                number(),
                "2 input image files, the prompt asks for 3",
                prompt=ask("a collage", 3),
                inputImage=_files(2),
                maxImages=13,
            ),
            self._case(
                number(),
                "CJK prompt asking for two, watermark on",
                prompt="一只在雪中的红狐狸，生成两张图片",
                watermark="true",
                size="2560x1440",
                maxImages=3,
            ),
        ]
        return mix(boundaries, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        good = {"prompt": "a paper lantern", "size": "2048x2048"}
        cases = [
            Case(number(), "no prompt", {"size": "2048x2048"}, violates="prompt required"),
            Case(number(), "a size outside the 8 values", {**good, "size": "1024x1024"}, violates="size enum"),
            Case(number(), "maxImages 16", {**good, "maxImages": 16}, violates="maxImages 1..15"),
            Case(number(), "maxImages 0", {**good, "maxImages": 0}, violates="maxImages 1..15"),
            Case(number(), "15 input images", {**good, "inputImage": _urls(15)}, violates="inputImage <= 14"),
            Case(
                number(),
                "5 references + maxImages 11",
                {**good, "inputImage": _urls(5), "maxImages": 11},
                violates="references + maxImages <= 15",
            ),
            Case(number(), "watermark 'maybe'", {**good, "watermark": "maybe"}, violates="watermark true|false"),
        ]
        return cases + mutated(good, MUTATIONS, number, seed, count)

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
        body = {"prompt": prompt or title, **fields}
        width, height = rules.dimensions(rules.size(body))
        return Case(
            case_id, title, body, Expectation(rules.image_count(body), width, height, "png", body["prompt"], MODEL)
        )

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        drawn = st.tuples(
            PROMPTS,
            st.sampled_from(rules.SIZES),
            st.integers(1, 4),
            st.integers(1, 3),
            st.sampled_from(["true", "false"]),
        )
        return [
            self._case(
                number(),
                f"{size}, asks {asked}, maxImages {cap}",
                prompt=ask(prompt, asked),
                size=size,
                maxImages=cap,
                watermark=watermark,
            )
            for prompt, size, asked, cap, watermark in sample(drawn, count, seed)
        ]


def _urls(count: int) -> list[str]:
    """Public URLs, for invalid cases only: the emulator cannot download them offline, so a valid case with them
    would leave a journal warning (Wiro would download them; here they are taken on trust)."""
    return [f"https://assets.example.com/wiro-{index}.jpg" for index in range(count)]


def _files(count: int) -> list[str]:
    """Local image files, as data URIs (a JSON body cannot carry files): a client sends each as a multipart
    `inputImage` file part, as the seed's curl sample does, or uploads it with File/Upload and sends the URL."""
    return [data_uri(24 + index, 16) for index in range(count)]


PROFILE = WiroProfile()
