"""Runware: imageInference tasks for bytedance:5@0 and bytedance:seedream@4.5."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from contracts import counts
from contracts.runware import rules

from ..adapters.base import WEBSOCKET
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
    stable_uuid,
)

SEEDREAM_40 = "bytedance:5@0"
SEEDREAM_45 = "bytedance:seedream@4.5"
FORMATS = {"JPG": "jpeg", "PNG": "png", "WEBP": "webp"}
FACTS = "https://runware.ai/docs/models/bytedance-seedream-4-0 (shared/providers/runware.md)"
SEED_MAX: int = rules.PROPERTIES["seed"]["maximum"]


MUTATIONS = [
    Mutation(("positivePrompt",), st.text(min_size=2001, max_size=2600), "positivePrompt 1..2000"),
    Mutation(("numberResults",), st.integers(max_value=0) | st.integers(min_value=21), "numberResults 1..20"),
    Mutation(("outputQuality",), st.integers(max_value=19) | st.integers(min_value=100), "outputQuality 20..99"),
    Mutation(("ttl",), st.integers(max_value=59), "ttl >= 60"),
    Mutation(
        ("width",),
        st.integers(1, 16383).filter(lambda w: w not in {w for w, _ in rules.table_sizes()}),
        "4.0 size table",
    ),
    Mutation(("seed",), st.integers(max_value=-1) | st.integers(min_value=SEED_MAX + 1), f"seed 0..{SEED_MAX}"),
    Mutation(
        ("outputType",),
        st.text(min_size=1, max_size=12).filter(lambda t: t not in ("URL", "dataURI", "base64Data")),
        "outputType URL|dataURI|base64Data",
    ),
]


class RunwareProfile:
    provider = "runware"
    model = SEEDREAM_40
    signs_webhooks = False

    def base_url(self, emulator: EmulatorHandle) -> str:
        return f"{emulator.url('runware')}/v1"

    def credentials(self) -> dict[str, str]:
        return {"api_key": "conformance-key"}

    def body(self, prompt: str, images: int = 1) -> dict[str, Any]:
        """One generation; several images are a sequence the prompt asks for, within maxSequentialImages (an upper
        bound: "the model may generate fewer"), not numberResults (exact, a separate generation each)."""
        body: dict[str, Any] = {
            "taskType": "imageInference",
            "taskUUID": stable_uuid(prompt, images),
            "model": SEEDREAM_40,
            "positivePrompt": counts.ask(prompt, images),
            "width": 1024,
            "height": 1024,
            "numberResults": 1,
        }
        if images > 1:
            body["providerSettings"] = {"bytedance": {"maxSequentialImages": images}}
        return body

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "webhookURL": url}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        boundaries = [
            self._case(
                number(), "4.0, seed page example size 2304x1728", model=SEEDREAM_40, width=2304, height=1728, seed=5417
            ),
            self._case(
                number(),
                "4.5, 2000-character prompt, resolution 2K",
                model=SEEDREAM_45,
                prompt=BOUNDARY_PROMPT,
                resolution="2K",
            ),
            self._case(
                number(), "4.0, 20 results at 1024x1024", model=SEEDREAM_40, width=1024, height=1024, numberResults=20
            ),
            self._case(
                number(), "4.0, 21:9 4K 6048x2592, PNG", model=SEEDREAM_40, width=6048, height=2592, outputFormat="PNG"
            ),
            self._case(
                number(), "4.5, 16383x1024 (pixel and side bounds)", model=SEEDREAM_45, width=16383, height=1024
            ),
            self._case(
                number(),
                "4.5, lower pixel bound 2560x1440, CJK prompt",
                model=SEEDREAM_45,
                width=2560,
                height=1440,
                prompt="一只在雪中的红狐狸",
            ),
            self._case(number(), "4.0, 14 reference images", model=SEEDREAM_40, width=2048, height=2048, references=14),
            self._case(
                number(),
                "4.0, 1 reference + 14 sequential images (15)",
                model=SEEDREAM_40,
                width=1024,
                height=1024,
                references=1,
                sequential=14,
            ),
            self._case(
                number(),
                "4.5, 4K preset matching a 16:9 data-URI reference, base64 output",
                model=SEEDREAM_45,
                resolution="4K",
                inline_reference=(320, 180),
                outputType="base64Data",
            ),
            self._case(
                number(),
                "4.0, dataURI WEBP at quality 20",
                model=SEEDREAM_40,
                width=1440,
                height=2560,
                outputType="dataURI",
                outputFormat="WEBP",
                outputQuality=20,
            ),
            self._case(
                number(),
                "4.0, maxSequentialImages 4, the prompt asks for 2 (the model may generate fewer)",
                model=SEEDREAM_40,
                prompt=counts.ask("a storyboard of a fox", 2),
                width=1024,
                height=1024,
                sequential=4,
            ),
            self._case(
                number(),
                "4.5, maxSequentialImages 3, a prompt that asks for no number (one image)",
                model=SEEDREAM_45,
                prompt="a lighthouse at dusk",
                resolution="2K",
                sequential=3,
            ),
            self._case(
                number(),
                "4.0, 2 results of a 3-image sequence each",
                model=SEEDREAM_40,
                prompt=counts.ask("a comic strip", 3),
                width=2048,
                height=2048,
                numberResults=2,
                sequential=3,
            ),
            self._case(
                number(),
                "4.5, 3 top-level reference images (the 4.5 page's own form)",
                model=SEEDREAM_45,
                width=2048,
                height=3072,
                references=3,
                top_level=True,
            ),
        ]
        return mix(boundaries, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        good = self._task(SEEDREAM_40, "a lighthouse", width=2048, height=2048)
        cases = [
            Case(
                number(),
                "prompt of 2001 characters",
                {**good, "positivePrompt": "x" * 2001},
                violates="positivePrompt 1..2000",
            ),
            Case(number(), "empty prompt", {**good, "positivePrompt": ""}, violates="positivePrompt 1..2000"),
            Case(number(), "numberResults 21", {**good, "numberResults": 21}, violates="numberResults 1..20"),
            Case(
                number(),
                "4.0 size outside the 17-pair table",
                {**good, "width": 1000, "height": 1000},
                violates="4.0 size table",
            ),
            Case(
                number(),
                "4.5 below 3,686,400 pixels",
                {**good, "model": SEEDREAM_45, "width": 2048, "height": 1024},
                violates="4.5 pixel bounds",
            ),
            Case(
                number(),
                "15 reference images",
                {**good, "inputs": {"referenceImages": _urls(15)}},
                violates="referenceImages <= 14",
            ),
            Case(
                number(),
                "references + maxSequentialImages = 16",
                {
                    **good,
                    "inputs": {"referenceImages": _urls(2)},
                    "providerSettings": {"bytedance": {"maxSequentialImages": 14}},
                },
                violates="references + sequential <= 15",
            ),
            Case(number(), "outputQuality 19", {**good, "outputQuality": 19}, violates="outputQuality 20..99"),
            Case(number(), "ttl 59", {**good, "ttl": 59}, violates="ttl >= 60"),
            Case(
                number(), "unknown outputFormat", {**good, "outputFormat": "GIF"}, violates="outputFormat JPG|PNG|WEBP"
            ),
            Case(
                number(),
                "seed 2^63, the model pages' maximum as a double prints it",
                {**good, "seed": SEED_MAX + 1},
                violates=f"seed 0..{SEED_MAX}",
            ),
            Case(
                number(),
                "reference images both at the top level and under inputs",
                {
                    **good,
                    "referenceImages": [data_uri(*REFERENCE_SIZE)],
                    "inputs": {"referenceImages": [data_uri(*REFERENCE_SIZE)]},
                },
                violates="referenceImages in one place (a duplicated field got a 400 in production, sdk-python PR #142)",
            ),
        ]
        return cases + mutated(good, MUTATIONS, number, seed, count)

    def scenarios(self) -> list[Scenario]:
        create = {"surface": "runware", "nth": 1}
        first_poll = {"surface": "runware", "nth": 2}
        return common_scenarios(self.provider, create, first_poll, FACTS) + [
            Scenario(
                "socket_drop",
                "WebSocket dropped without a close frame while the task runs",
                ({"action": "disconnect", "surface": "runware", "route": "WS *", "disconnect": "abrupt", "times": 1},),
                frozenset({"success", "connection"}),
                "Runware: undelivered results are kept 120 s for a resumed session; a re-sent taskUUID answers conflictTaskUUID",
                capability=WEBSOCKET,
            ),
        ]

    def polled_job(self, exchange: Exchange) -> str | None:
        return _task_uuid(exchange, "getResponse")

    def terminal_job(self, exchange: Exchange) -> str | None:
        reply = exchange.response_json()
        if not isinstance(reply, dict):
            return None
        for error in reply.get("errors") or []:
            if isinstance(error, dict) and error.get("taskType") == "imageInference" and error.get("taskUUID"):
                return str(error["taskUUID"]).lower()
        items = [
            item
            for item in reply.get("data") or []
            if isinstance(item, dict) and item.get("taskType") == "imageInference"
        ]
        polled = [item for item in items if "status" in item]
        if polled and all(item["status"] == "success" for item in polled):
            return str(polled[0].get("taskUUID", "")).lower() or None
        return None

    def _case(
        self,
        case_id: str,
        title: str,
        *,
        model: str,
        prompt: str | None = None,
        references: int = 0,
        inline_reference: tuple[int, int] | None = None,
        sequential: int | None = None,
        top_level: bool = False,
        **fields: Any,
    ) -> Case:
        body = self._task(model, prompt or title, **fields)
        first_size = None
        if references:
            # Inline images: a URL the harness made up would be a public host the emulator cannot check (a warning).
            images = [data_uri(*REFERENCE_SIZE)] * references
            body.update({"referenceImages": images} if top_level else {"inputs": {"referenceImages": images}})
            first_size = REFERENCE_SIZE
        if inline_reference:
            body["inputs"] = {"referenceImages": [data_uri(*inline_reference)]}
            first_size = inline_reference
        if sequential:
            body["providerSettings"] = {"bytedance": {"maxSequentialImages": sequential}}
        width, height = rules.output_size(body, first_size)
        expect = Expectation(
            rules.image_count(body),
            width,
            height,
            FORMATS[body.get("outputFormat", "JPG")],
            body["positivePrompt"],
            model,
        )
        return Case(case_id, title, body, expect)

    @staticmethod
    def _task(model: str, prompt: str, **fields: Any) -> dict[str, Any]:
        return {
            "taskType": "imageInference",
            "taskUUID": stable_uuid(model, prompt, fields),
            "model": model,
            "positivePrompt": prompt,
            **fields,
        }

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        sizes = st.one_of(
            st.builds(
                lambda pair: (SEEDREAM_40, {"width": pair[0], "height": pair[1]}), st.sampled_from(rules.table_sizes())
            ),
            st.builds(lambda r: (SEEDREAM_45, {"resolution": r}), st.sampled_from(["2K", "4K"])),
            st.builds(
                lambda w, h: (SEEDREAM_45, {"width": w, "height": h}),
                st.integers(1920, 4096),
                st.integers(1920, 4096),
            ),
        )
        drawn = st.tuples(
            sizes,
            PROMPTS,
            st.integers(1, 3),
            st.sampled_from(["URL", "dataURI", "base64Data"]),
            st.sampled_from(["JPG", "PNG", "WEBP"]),
            st.integers(20, 99),
            st.one_of(st.none(), st.integers(0, 2**32 - 1)),
        )
        cases = []
        for (model, size), prompt, results, output_type, output_format, quality, seed_value in sample(
            drawn, count, seed
        ):
            fields: dict[str, Any] = {
                **size,
                "numberResults": results,
                "outputType": output_type,
                "outputFormat": output_format,
                "outputQuality": quality,
            }
            if seed_value is not None:
                fields["seed"] = seed_value
            title = f"{model}, {size}, {results} result(s), {output_type} {output_format} q{quality}"
            cases.append(self._case(number(), title, model=model, prompt=prompt, **fields))
        return cases


REFERENCE_SIZE = (12, 8)


def _urls(count: int) -> list[str]:
    return [f"https://assets.example.com/reference-{index}.jpg" for index in range(count)]


def _task_uuid(exchange: Exchange, task_type: str) -> str | None:
    if exchange.direction != "in":
        return None
    tasks = exchange.request_json()
    if not isinstance(tasks, list):
        return None
    for task in tasks:
        if isinstance(task, dict) and task.get("taskType") == task_type and isinstance(task.get("taskUUID"), str):
            return str(task["taskUUID"]).lower()
    return None


PROFILE = RunwareProfile()
