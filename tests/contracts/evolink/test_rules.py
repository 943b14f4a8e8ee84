"""The EvoLink contract agrees with itself and with the provider sheet; its rule functions behave at the edges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import load
from contracts.docs import render
from contracts.evolink import rules
from tests.support import contract_errors

CONTRACT = load("evolink")


def test_every_schema_ratio_has_a_table_row_and_every_tier_a_quality() -> None:
    assert set(rules.RATIO_SIZES) == {"auto"} | set(rules.SIZE_TABLE)
    assert len(rules.SIZE_TABLE) == 10  # the seed's list: auto plus ten ratios
    assert set(rules.QUALITIES) == {"1K", "2K", "4K"}
    for tiers in rules.SIZE_TABLE.values():
        assert set(tiers) == set(rules.QUALITIES)


@pytest.mark.parametrize("size", ["9:21", "1K", "2K", "4K"])
def test_sizes_only_other_docs_list_are_refused(size: str) -> None:
    """`9:21` (newer generated docs) and the legacy tiers (older doc) are not in the seed's list."""
    assert contract_errors("evolink", "imageGeneration", {"model": rules.MODEL, "prompt": "a fox", "size": size}) != []


def test_table_sizes_are_themselves_valid_pixel_sizes() -> None:
    for ratio, tiers in rules.SIZE_TABLE.items():
        for width, height in tiers.values():
            found, _ = rules.check({"prompt": "a fox", "size": f"{width}x{height}"}, strict=True)
            assert found == [], (ratio, width, height)
            assert rules.nearest_ratio((width, height)) == ratio  # 4K 16:9 is 5504x3040 (1.81), still nearest 16:9


def test_defaults_match_the_docs() -> None:
    assert rules.DEFAULTS == {"n": 1, "size": "auto", "quality": "2K", "prompt_priority": "standard"}


@given(n=st.integers(1, 15), refs=st.integers(0, 14), asked=st.integers(0, 40))
def test_image_count_stays_within_n_and_fifteen_minus_references(n: int, refs: int, asked: int) -> None:
    body = {"prompt": f"generate {asked} images", "n": n, "image_urls": ["https://x.example/a.png"] * refs}
    assert rules.image_count(body, "max") == min(n, 15 - refs)
    assert rules.image_count(body) == rules.image_count(body, "prompt") == min(max(asked, 1), n, 15 - refs)


@pytest.mark.parametrize(
    ("prompt", "tokens"),
    [("", 0), ("abcd", 1), ("abcde", 2), ("一", 2), ("一二", 3), ("東京の夜景", 8), ("한국어", 5), ("a一", 2)],
)
def test_prompt_tokens_count_cjk_at_one_and_a_half(prompt: str, tokens: int) -> None:
    assert rules.prompt_tokens(prompt) == tokens


@given(st.text(alphabet="一二三四五六七八九十東京夜景", min_size=1, max_size=2000))
def test_a_cjk_prompt_within_2000_characters_is_refused_exactly_when_its_estimate_exceeds_2000(prompt: str) -> None:
    found, _ = rules.check({"prompt": prompt}, strict=True)
    assert bool(found) is (rules.prompt_tokens(prompt) > 2000)
    assert not found or found[0].path == "/prompt"


def test_a_2000_character_latin_prompt_is_within_the_token_limit() -> None:
    assert rules.check({"prompt": "x" * 2000}, strict=True) == ([], [])


def test_data_uri_references_are_served_with_a_warning() -> None:
    _, warnings = rules.check({"prompt": "a fox", "image_urls": ["data:image/png;base64,AAAA"]}, strict=True)
    assert len(warnings) == 1 and "image_urls[0] is a data URI" in warnings[0]


def test_unreachable_references() -> None:
    assert rules.unreachable("https://a.invalid/x.png")
    assert rules.unreachable("https://A.INVALID./x.png")
    assert not rules.unreachable("https://invalid.example/x.png")
    assert not rules.unreachable("https://[bad/x.png")


def test_every_http_error_has_both_generations_with_a_consistent_shape() -> None:
    for situation, styles in rules.RULES["httpErrors"].items():
        assert set(styles) == {"integer", "string"}, situation
        assert "code" not in styles["integer"], "integer codes are the HTTP status"
        assert isinstance(styles["string"]["code"], str)
        for spec in styles.values():
            assert 400 <= spec["status"] < 600
            body = {
                "error": {"code": spec.get("code", spec["status"]), "message": spec["message"], "type": spec["type"]}
            }
            assert contract_errors("evolink", "error", body) == []


def test_the_documented_examples_meet_the_task_contract() -> None:
    created = {
        "created": 1757165031,
        "id": "task-unified-1757165031-4x3rx6ny",
        "model": "doubao-seedream-4.0",
        "object": "image.generation.task",
        "progress": 0,
        "status": "pending",
        "task_info": {"can_cancel": True, "estimated_time": 45},
        "type": "image",
        "usage": {"billing_rule": "per_call", "credits_reserved": 1.8, "user_group": "default"},
    }
    completed = {
        "created": 1756817821,
        "id": "task-unified-1756817821-4x3rx6ny",
        "model": "gpt-4o-image",
        "object": "image.generation.task",
        "progress": 100,
        "results": ["http://example.com/image.jpg"],
        "status": "completed",
        "task_info": {"can_cancel": False},
        "type": "image",
    }
    assert contract_errors("evolink", "task", created) == []
    assert contract_errors("evolink", "task", completed) == []
    assert contract_errors("evolink", "task", {**completed, "status": "failed"}) != []
    assert contract_errors("evolink", "task", {**completed, "progress": 50}) != []


def test_credits_have_no_float_noise() -> None:
    assert [rules.credits(n) for n in (1, 3, 13)] == [1.8, 5.4, 23.4]


def test_generated_docs_show_the_table_and_the_limits() -> None:
    text = render("evolink")
    assert "| `prompt` | string | minLength 1, maxLength 2000 |" in text
    assert "| `n` | integer | minimum 1, maximum 15 | `1` |" in text
    assert "| `21:9` | 1512x648 | 3136x1344 | 6240x2656 |" in text
    assert "retries after 1, 2, 4 s" in text
