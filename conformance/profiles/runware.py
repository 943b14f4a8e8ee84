"""Runware: imageInference tasks for bytedance:5@0 and bytedance:seedream@4.5."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from PIL import Image

from contracts import counts
from contracts.boundaries import example
from contracts.fixtures import fixture_size
from contracts.runware import rules

from ..adapters.base import WEBSOCKET
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
    stable_uuid,
)

SEEDREAM_40 = "bytedance:5@0"
SEEDREAM_45 = "bytedance:seedream@4.5"
FORMATS = {"JPG": "jpeg", "PNG": "png", "WEBP": "webp"}
FACTS = "https://runware.ai/docs/models/bytedance-seedream-4-0 (shared/providers/runware.md)"

BASE = example(rules.CONTRACT, rules.REQUEST_SCHEMA)
DEFAULTS = rules.CONTRACT.defaults(rules.REQUEST_SCHEMA)
PROPERTIES = rules.PROPERTIES
RESULTS = PROPERTIES["numberResults"]
QUALITY = PROPERTIES["outputQuality"]
SEED = PROPERTIES["seed"]
PRESETS: list[str] = PROPERTIES["resolution"]["enum"]
# 4.5 sides whose every pairing stays within its pixel and aspect bounds.
SIDES = st.integers(rules.smallest_size(SEEDREAM_45)[0], math.isqrt(rules.model_rules(SEEDREAM_45)["maxPixels"]))


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
            **BASE,
            "taskUUID": stable_uuid(prompt, images),
            "positivePrompt": counts.ask(prompt, images),
            "numberResults": rules.DEFAULT_RESULTS,
        }
        if images > 1:
            body["providerSettings"] = {"bytedance": {"maxSequentialImages": images}}
        return body

    def with_webhook(self, body: Mapping[str, Any], url: str) -> dict[str, Any]:
        return {**body, "webhookURL": url}

    def valid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("valid")
        limits = [self._expected(number(), inside(b), b.apply(BASE, "inside")) for b in rules.boundaries()]
        others = [
            self._case(
                number(), "4.0, the seed page's example (2304x1728, seed 5417)", width=2304, height=1728, seed=5417
            ),
            self._case(
                number(),
                f"4.5, resolution {PRESETS[0]} with no width or height (the 4.5 page's form)",
                model=SEEDREAM_45,
                resolution=PRESETS[0],
                sized=False,
            ),
            self._case(
                number(),
                f"4.5, {PRESETS[-1]} preset matching a 16:9 data-URI reference, base64 output",
                model=SEEDREAM_45,
                resolution=PRESETS[-1],
                inputs={"referenceImages": [data_uri(320, 180)]},
                outputType="base64Data",
                sized=False,
            ),
            self._case(
                number(),
                "4.0, maxSequentialImages 4, the prompt asks for 2 (the model may generate fewer)",
                prompt=counts.ask("a storyboard of a fox", 2),
                providerSettings={"bytedance": {"maxSequentialImages": 4}},
            ),
            self._case(
                number(),
                "4.5, maxSequentialImages 3, a prompt that asks for no number (one image)",
                model=SEEDREAM_45,
                prompt="a lighthouse at dusk",
                resolution=PRESETS[0],
                providerSettings={"bytedance": {"maxSequentialImages": 3}},
                sized=False,
            ),
            self._case(
                number(),
                "4.0, 2 results of a 3-image sequence each",
                prompt=counts.ask("a comic strip", 3),
                numberResults=2,
                providerSettings={"bytedance": {"maxSequentialImages": 3}},
            ),
        ]
        return mix(limits + others, lambda n: self._random(number, seed, n), count)

    def invalid_cases(self, seed: int, count: int) -> list[Case]:
        number = Numbered("invalid")
        boundaries = rules.boundaries()
        return outside_cases(boundaries, BASE, number, _own_uuid) + drawn_outside(
            boundaries, BASE, number, seed, count, _own_uuid
        )

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
        model: str = SEEDREAM_40,
        prompt: str | None = None,
        sized: bool = True,
        **fields: Any,
    ) -> Case:
        """A case from scratch: the example task on `model` (without its width and height unless `sized`)."""
        body = {key: value for key, value in BASE.items() if sized or key not in ("width", "height")}
        body.update(model=model, positivePrompt=prompt or title, **fields)
        return self._expected(case_id, title, body)

    @staticmethod
    def _expected(case_id: str, title: str, body: Mapping[str, Any]) -> Case:
        """The case with its own taskUUID and the images the contract says it makes."""
        task = {**body, "taskUUID": stable_uuid(case_id, title, body)}
        references = rules.reference_images(task)
        width, height = rules.output_size(task, next(filter(None, map(_reference_size, references)), None))
        output = FORMATS[task.get("outputFormat", DEFAULTS["outputFormat"])]
        expect = Expectation(
            rules.image_count(task),
            width,
            height,
            output,
            task["positivePrompt"],
            task["model"],
            seed=task.get("seed"),
            # PNG is lossless: its quality proves nothing.
            quality=task.get("outputQuality") if output != "png" else None,
            reference_count=len(references) or None,
        )
        return Case(case_id, title, task, expect)

    def _random(self, number: Numbered, seed: int, count: int) -> list[Case]:
        sizes = st.one_of(
            st.builds(
                lambda pair: (SEEDREAM_40, {"width": pair[0], "height": pair[1]}), st.sampled_from(rules.table_sizes())
            ),
            st.builds(lambda preset: (SEEDREAM_45, {"resolution": preset}), st.sampled_from(PRESETS)),
            st.builds(lambda w, h: (SEEDREAM_45, {"width": w, "height": h}), SIDES, SIDES),
        )
        drawn = st.tuples(
            sizes,
            PROMPTS,
            st.integers(RESULTS["minimum"], min(3, RESULTS["maximum"])),
            st.sampled_from(PROPERTIES["outputType"]["enum"]),
            st.sampled_from(PROPERTIES["outputFormat"]["enum"]),
            st.integers(QUALITY["minimum"], QUALITY["maximum"]),
            st.one_of(st.none(), st.integers(SEED["minimum"], SEED["maximum"])),
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
            cases.append(self._case(number(), title, model=model, prompt=prompt, sized=False, **fields))
        return cases


def _own_uuid(body: dict[str, Any]) -> dict[str, Any]:
    """Every task carries its own taskUUID (a re-sent one answers conflictTaskUUID)."""
    return {**body, "taskUUID": stable_uuid("invalid", body)}


def _reference_size(value: Any) -> tuple[int, int] | None:
    """The pixel size of a data-URI or fixture reference; None for anything the profile cannot see."""
    if isinstance(value, str) and value.startswith("data:"):
        with Image.open(io.BytesIO(base64.b64decode(value.partition(",")[2]))) as image:
            return image.size
    return fixture_size(value) if isinstance(value, str) else None


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
