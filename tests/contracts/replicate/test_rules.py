"""The Replicate contract: schemas are valid, rules read their numbers from data, 422 wording."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import counts
from contracts.docs import render
from contracts.replicate import rules

CONTRACT = rules.CONTRACT
INPUT = CONTRACT.schema("input")


@pytest.mark.parametrize("name", CONTRACT.names())
def test_every_schema_is_valid_draft_2020_12_with_its_id(name: str) -> None:
    schema = CONTRACT.schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://seedream-emulator.local/contracts/replicate/{name}.json"


def test_input_schema_matches_the_seed_page() -> None:
    properties = INPUT["properties"]
    assert INPUT["required"] == ["prompt"]
    assert [name for name, _ in sorted(properties.items(), key=lambda item: item[1]["x-order"])] == [
        "prompt",
        "image_input",
        "size",
        "aspect_ratio",
        "width",
        "height",
        "sequential_image_generation",
        "max_images",
        "enhance_prompt",
    ]
    assert CONTRACT.defaults("input") == {
        "image_input": [],
        "size": "2K",
        "aspect_ratio": "match_input_image",
        "width": 2048,
        "height": 2048,
        "sequential_image_generation": "disabled",
        "max_images": 1,
        "enhance_prompt": True,
    }
    assert "maxItems" not in properties["image_input"], "Replicate checks the 10-image limit only at run time"


def test_the_size_table_covers_every_tier_and_ratio() -> None:
    ratios = [r for r in INPUT["properties"]["aspect_ratio"]["enum"] if r != rules.RULES["matchInputImage"]]
    tiers = [s for s in INPUT["properties"]["size"]["enum"] if s != rules.RULES["customSize"]]
    assert sorted(rules.RULES["sizeTable"]) == sorted(tiers)
    for tier in tiers:
        assert list(rules.RULES["sizeTable"][tier]) == ratios
        for ratio, (width, height) in rules.RULES["sizeTable"][tier].items():
            a, b = map(int, ratio.split(":"))
            assert abs(width / height - a / b) < 0.02, (tier, ratio)
            assert width % 16 == 0 and height % 16 == 0


@given(
    tier=st.sampled_from(["1K", "2K", "4K"]),
    width=st.integers(1, 10_000),
    height=st.integers(1, 10_000),
)
def test_match_input_image_picks_the_nearest_listed_ratio(tier: str, width: int, height: int) -> None:
    chosen = rules.output_size({"size": tier}, (width, height))
    table = rules.RULES["sizeTable"][tier]
    assert list(chosen) in table.values()
    import math

    target = math.log(width / height)
    best = min(abs(math.log(w / h) - target) for w, h in table.values())
    assert abs(math.log(chosen[0] / chosen[1]) - target) == best


def test_invalid_fields_follow_the_gojsonschema_templates() -> None:
    found = rules.invalid_fields("modelPredictionRequest", {"input": {"size": "3K", "max_images": 99}, "extra": 1})
    assert [rules.invalid_field(f) for f in found] == [
        {"type": "required", "field": "input", "description": "prompt is required"},
        {
            "type": "enum",
            "field": "input.size",
            "description": 'size must be one of the following: "1K", "2K", "4K", "custom"',
        },
        {"type": "number_lte", "field": "input.max_images", "description": "Must be less than or equal to 15"},
        {
            "type": "additional_property_not_allowed",
            "field": "",
            "description": "Additional property extra is not allowed",
        },
    ]
    assert rules.line(found[0]) == "- input: prompt is required\n"
    assert rules.line(found[-1]) == "- Additional property extra is not allowed\n"


def test_huge_numbers_are_reported_not_raised() -> None:
    found = rules.invalid_fields("modelPredictionRequest", {"input": {"prompt": "x", "width": 10**40}})
    assert found and rules.field_of(found[0]) == "input.width"


@pytest.mark.parametrize(
    ("input", "failure"),
    [
        ({"image_input": ["u"] * 10}, None),
        ({"image_input": ["u"] * 11}, "Too many input images"),
        ({"image_input": ["u"] * 5, "sequential_image_generation": "auto", "max_images": 10}, None),
        ({"image_input": ["u"] * 6, "sequential_image_generation": "auto", "max_images": 10}, "Total images"),
        ({"image_input": ["u"] * 6, "max_images": 10}, None),
    ],
)
def test_run_time_limits(input: dict, failure: str | None) -> None:
    result = rules.run_failure({"prompt": "x", **input})
    assert (result is None) if failure is None else (result is not None and result.startswith(failure))


@given(asked=st.integers(1, 20), max_images=st.integers(1, 15), inputs=st.integers(0, 14))
def test_auto_lets_the_prompt_decide_within_max_images_and_the_fifteen_image_budget(
    asked: int, max_images: int, inputs: int
) -> None:
    input_ = {
        "prompt": counts.ask("a storyboard", asked),
        "sequential_image_generation": "auto",
        "max_images": max_images,
        "image_input": ["u"] * inputs,
    }
    cap = max(1, min(max_images, rules.RULES["maxTotalImages"] - inputs))
    assert rules.image_count(input_) == min(asked, cap)
    assert rules.image_count(input_, "max") == cap
    assert rules.image_count({**input_, "prompt": "a storyboard"}) == 1
    assert rules.image_count({**input_, "sequential_image_generation": "disabled"}, "max") == 1


def test_prefer_limits_come_from_rules() -> None:
    limits = rules.RULES["prefer"]
    assert rules.parse_prefer("wait") == rules.Preference(limits["default"], "wait")
    low, high = limits["minimum"], limits["maximum"]
    assert rules.parse_prefer(f"wait={low}") == rules.Preference(low, f"wait={low}")
    assert rules.parse_prefer(f"wait={high}") == rules.Preference(high, f"wait={high}")
    clamped = rules.parse_prefer(f"wait={limits['patternMaximum']}")
    assert (clamped.seconds, clamped.applied, len(clamped.notes)) == (high, f"wait={high}", 1)
    ignored = rules.parse_prefer(f"wait={low - 1}")
    assert (ignored.seconds, ignored.applied, len(ignored.notes)) == (None, None, 1)


@given(
    seconds=st.integers(0, 10**6),
    others=st.lists(st.sampled_from(["respond-async", "return=minimal", "handling=strict", "x;y=1"]), max_size=3),
    spelling=st.sampled_from(["wait={}", "WAIT={}", ' wait = "{}" ', "wait={};foo=bar"]),
)
def test_any_wait_is_applied_within_the_documented_window_and_anything_else_ignored(
    seconds: int, others: list[str], spelling: str
) -> None:
    limits = rules.RULES["prefer"]
    preference = rules.parse_prefer(", ".join([*others, spelling.format(seconds)]))
    if seconds < limits["minimum"]:
        assert preference.seconds is None and preference.applied is None
    else:
        assert preference.seconds == min(seconds, limits["maximum"])
        assert preference.applied == f"wait={preference.seconds}"
    assert len(preference.notes) == len(others) + (seconds > limits["maximum"] or seconds < limits["minimum"])


@given(header=st.text(max_size=40))
def test_no_prefer_header_is_refused(header: str) -> None:
    preference = rules.parse_prefer(header)
    assert preference.seconds is None or 1 <= preference.seconds <= rules.RULES["prefer"]["maximum"]


def test_openapi_schema_is_built_from_the_contract() -> None:
    schema = rules.openapi_schema()
    published = schema["components"]["schemas"]["Input"]["properties"]
    assert published.keys() == INPUT["properties"].keys()
    for name, node in INPUT["properties"].items():
        items = {key: value for key, value in node.get("items", {}).items() if key not in rules.ANNOTATIONS}
        assert published[name] == {**node, **({"items": items} if "items" in node else {})}, name
    assert "$id" not in schema["components"]["schemas"]["Input"]
    assert schema["components"]["schemas"]["WebhookEvent"]["enum"] == list(rules.WEBHOOK_EVENTS)
    text = json.dumps(schema)
    assert "examples" not in text and "x-boundary" not in text, "the harness's annotations are not Cog's"


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/x", True),
        ("http://127.0.0.1:9000/x", True),
        ("https://192.168.1.4/x", True),
        ("ws://example.com/x", False),
        ("mailto:a@example.com", False),
        ("https:///nohost", False),
    ],
)
def test_webhooks_must_be_http_urls_with_a_host_whatever_the_policy(url: str, ok: bool) -> None:
    assert (rules.webhook_problem("webhook", url) is None) == ok


def test_refused_webhook_targets_name_the_field_and_the_problem() -> None:
    assert rules.invalid_field(rules.webhook_refusal("webhook_completed", "scheme", "h")) == {
        "type": "invalid_webhook",
        "field": "webhook_completed",
        "description": "webhook_completed must be an HTTPS URL",
    }
    assert rules.webhook_refusal("webhook", "internal", "127.1").message == (
        "webhook must not point to an internal address (127.1)"
    )
    warning = rules.webhook_warning("webhook", "http://10.0.0.1/h", "internal", "10.0.0.1")
    assert "internal host 10.0.0.1" in warning and "--strict" in warning


def test_committed_docs_mention_the_rules() -> None:
    text = render("replicate")
    assert "| 2K | 2048x2048 | 2304x1728 |" in text
    assert "| `max_images` | integer | minimum 1, maximum 15 | `1` |  |" in text
