"""`maxImages` is an upper bound: the model page's help text asks the prompt to state how many images to make.

A task makes `contracts.counts.decide(prompt, cap, image_count)` images, cap = min(maxImages, 15 - references).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.counts import Mode, ask, decide
from contracts.wiro import rules

from .conftest import Wiro, until

URL = "https://example.com/ref.png"


async def outputs(wiro: Wiro, **body: object) -> tuple[dict, list[dict]]:
    reply = await wiro.create(**body)
    task = await wiro.finished(reply["taskid"])
    assert task["pexit"] == "0", task
    return task, task["outputs"]


async def test_a_prompt_that_asks_for_no_number_makes_one_image(wiro: Wiro) -> None:
    task, made = await outputs(wiro, prompt="a lighthouse at dusk", maxImages=4)
    assert [output["name"] for output in made] == ["0.png"]
    assert task["parameters"]["maxImages"] == "4", "parameters echo what the client sent, not what was made"


async def test_the_prompt_decides_within_max_images(wiro: Wiro) -> None:
    _, made = await outputs(wiro, prompt=ask("a lighthouse", 3), maxImages=5)
    assert [output["name"] for output in made] == ["0.png", "1.png", "2.png"]


async def test_max_images_caps_what_the_prompt_asks_for(wiro: Wiro) -> None:
    _, made = await outputs(wiro, prompt="生成6张海报", maxImages=2)
    assert len(made) == 2


async def test_max_mode_always_makes_max_images(make_wiro) -> None:
    wiro = await make_wiro(image_count="max")
    _, made = await outputs(wiro, prompt="a lighthouse at dusk", maxImages=3)
    assert len(made) == 3


async def test_the_mode_is_read_at_request_time(wiro: Wiro) -> None:
    wiro.runtime.image_count = "max"
    _, made = await outputs(wiro, prompt="a lighthouse at dusk", maxImages=2)
    assert len(made) == 2
    wiro.runtime.image_count = "prompt"
    _, made = await outputs(wiro, prompt="a lighthouse at dusk", maxImages=2)
    assert len(made) == 1


async def test_the_socket_and_progress_follow_the_decided_count(wiro: Wiro) -> None:
    reply = await wiro.create(prompt=ask("a lighthouse", 2), maxImages=6)
    task = wiro.stored(reply["taskid"])
    await until(lambda: task.terminal)
    progress = [frame["message"] for frame in task.frames if frame["type"] == "task_output"]
    assert [(p["stepCurrent"], p["stepTotal"]) for p in progress] == [("1", "2"), ("2", "2")]


def test_the_rule_caps_by_references_too() -> None:
    body = {"prompt": ask("x", 9), "maxImages": 9, "inputImage": [URL] * 6}
    assert rules.image_count(body) == 9
    body = {"prompt": ask("x", 9), "maxImages": 1, "inputImage": [URL] * 14}
    assert rules.image_count(body) == 1 and rules.image_count(body, "max") == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    asked=st.integers(1, 15),
    cap=st.integers(1, 15),
    references=st.integers(0, 14),
    mode=st.sampled_from(["prompt", "max"]),
)
async def test_the_emulator_makes_what_the_rule_says(
    make_wiro, asked: int, cap: int, references: int, mode: Mode
) -> None:
    cap = min(cap, 15 - references)
    wiro = await make_wiro(image_count=mode)
    body: dict[str, Any] = {"prompt": ask("a kite", asked), "maxImages": cap, "inputImage": [URL] * references}
    reply = await wiro.create(**body)
    task = wiro.stored(reply["taskid"])
    expected = decide(body["prompt"], cap, mode)
    assert len(task.specs) == rules.image_count(body, mode) == expected
    assert expected == (cap if mode == "max" else min(asked, cap))


@pytest.mark.parametrize(
    "prompt, expected", [("four different pictures of a fox", 4), ("a set of three posters", 3), ("两张图片", 2)]
)
async def test_english_and_chinese_counts(wiro: Wiro, prompt: str, expected: int) -> None:
    _, made = await outputs(wiro, prompt=prompt, maxImages=15)
    assert len(made) == expected
