"""How many images a task makes: n is an upper bound the prompt decides within, references + generated <= 15."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from tests.support import SyncClient

from .conftest import EvoLink, auth, body

examples = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def references(count: int) -> list[str]:
    return [f"https://cdn.example.com/ref-{i}.jpg" for i in range(count)]


@pytest.fixture(scope="module")
def clients() -> Iterator[dict[str, SyncClient]]:
    made = {
        mode: SyncClient(create_app(Settings(timing="instant", seed=3, image_count=mode))) for mode in ("max", "prompt")
    }
    yield made
    for client in made.values():
        client.close()


def results(client: SyncClient, payload: dict) -> list[str]:
    task = client.post("/evolink/v1/images/generations", json=payload, headers=auth()).json()
    reply = client.get(f"/evolink/v1/tasks/{task['id']}", headers=auth()).json()
    assert reply["status"] == "completed"
    assert task["usage"]["credits_reserved"] == round(payload.get("n", 1) * 1.8, 6)
    assert "usage" not in reply  # the seed documents usage on the create reply only
    return reply["results"]


@examples
@given(n=st.integers(1, 15), refs=st.integers(0, 14))
def test_max_mode_makes_n_images_within_fifteen_minus_references(
    clients: dict[str, SyncClient], n: int, refs: int
) -> None:
    made = results(clients["max"], body(n=n, image_urls=references(refs)))
    assert len(made) == min(n, 15 - refs)
    assert len(set(made)) == len(made)


@examples
@given(
    asked=st.integers(1, 20),
    n=st.integers(1, 15),
    refs=st.integers(0, 14),
    word=st.sampled_from(["images", "different pictures", "photos of cats"]),
)
def test_prompt_mode_makes_what_the_prompt_asks_within_n_and_fifteen_minus_references(
    clients: dict[str, SyncClient], asked: int, n: int, refs: int, word: str
) -> None:
    payload = body(n=n, prompt=f"please generate {asked} {word} of a harbour", image_urls=references(refs))
    made = results(clients["prompt"], payload)
    assert len(made) == min(asked, n, 15 - refs)


@pytest.mark.parametrize(
    "prompt, n, expected",  # the default mode
    [
        ("a harbour at dawn", 5, 1),
        ("generate 2 different images of a harbour", 5, 2),
        ("Generate FOUR variations of a logo", 15, 4),
        ("three posters for a jazz night", 2, 2),
        ("a 4K image of 12 apples", 15, 1),
        ("0 images please", 3, 1),
    ],
)
async def test_prompt_mode_examples(evolink: EvoLink, prompt: str, n: int, expected: int) -> None:
    assert len((await evolink.finished(prompt=prompt, n=n))["results"]) == expected


async def test_documented_fifteen_minus_references_case(evolink: EvoLink) -> None:
    """References + images asked in the prompt > 15 and asked <= n: the task makes 15 - references."""
    task = await evolink.finished(prompt="generate 10 images of a fox", n=12, image_urls=references(9))
    assert len(task["results"]) == 15 - 9


async def test_the_mode_can_change_while_the_emulator_runs(evolink: EvoLink) -> None:
    assert len((await evolink.finished(prompt="a harbour", n=3))["results"]) == 1
    evolink.emulator.app.state.emulator.set_policy(image_count="max")
    assert len((await evolink.finished(prompt="a harbour", n=3))["results"]) == 3
