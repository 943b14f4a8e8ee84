"""Group generations make what the prompt asks for, within the request's cap; `max` mode makes the cap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.counts import ENGLISH, Mode, asked_count, decide

ASKED = [
    ("generate 3 images of a lighthouse", 3),
    ("Generate 2 different images of a cat", 2),
    ("a set of four watercolour postcards", 4),
    ("a series of 5 posters for a jazz festival", 5),
    ("four pictures of the same street, one per season", 4),
    ("twelve icons in a flat style", 12),
    ("a pair of matching portraits", 2),
    ("生成3张图片", 3),
    ("四张不同角度的产品图", 4),
    ("一组十二张节日海报", 12),
    ("请画两张猫的插画", 2),
    ("十张", 10),
    ("二十张壁纸", 20),
    ("make 3 variations: a red, a blue and a green one, then 5 more frames", 3),
]
NOT_ASKED = [
    "a cat on a sofa",
    "a 4K photo of a mountain lake",
    "a poster, 1024x1024, vivid",
    "three",
    "the 3 musketeers",
    "a photo of 2 dogs",
    "",
]


@pytest.mark.parametrize(("prompt", "count"), ASKED)
def test_explicit_counts_are_read(prompt: str, count: int) -> None:
    assert asked_count(prompt) == count


@pytest.mark.parametrize("prompt", NOT_ASKED)
def test_prompts_without_a_count_ask_for_none(prompt: str) -> None:
    assert asked_count(prompt) is None


def test_the_count_is_capped_by_the_request_and_is_one_without_a_count() -> None:
    assert decide("generate 3 images", 15) == 3
    assert decide("generate 9 images", 4) == 4
    assert decide("a cat", 15) == 1
    assert decide("generate 0 images", 5) == 1
    assert decide("a cat", 6, "max") == 6
    assert decide("generate 2 images", 6, "max") == 6


@given(
    st.integers(1, 15),
    st.integers(1, 15),
    st.sampled_from(["generate {} images of a fox", "生成{}张狐狸", "a set of {}"]),
)
def test_digit_counts_within_any_cap(asked: int, cap: int, template: str) -> None:
    assert decide(template.format(asked), cap) == min(asked, cap)


@given(
    st.sampled_from(sorted(word for word, value in ENGLISH.items() if len(word) > 2 and value <= 15)),
    st.integers(1, 15),
)
def test_number_words_within_any_cap(word: str, cap: int) -> None:
    assert decide(f"please draw {word} images of a fox", cap) == min(ENGLISH[word], cap)


@given(st.text(max_size=200), st.integers(1, 15), st.sampled_from(["prompt", "max"]))
def test_any_prompt_gives_a_count_within_the_cap_and_always_the_same(prompt: str, cap: int, mode: Mode) -> None:
    count = decide(prompt, cap, mode)
    assert 1 <= count <= cap and count == decide(prompt, cap, mode)


WORDS = st.sampled_from([*ENGLISH, "images", "set of", "pictures", "Generate", "TWO", "Stone", "often", "ſix", "K"])


@given(st.lists(st.one_of(WORDS, st.text(max_size=6), st.integers(0, 999).map(str)), max_size=12).map(" ".join))
def test_the_quick_no_number_test_never_changes_the_count(prompt: str) -> None:
    """asked_count skips its patterns for ASCII prompts that name no number; they must agree with the patterns."""
    from contracts import counts

    full = [
        (match.start(), value)
        for pattern in (counts.COUNTED_NOUN, counts.SET_OF, counts.CHINESE_COUNT)
        for match in pattern.finditer(prompt)
        if (value := counts._value(match.group("n"))) is not None and value > 0
    ]
    assert asked_count(prompt) == (min(full)[1] if full else None)
