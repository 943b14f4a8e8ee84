import pytest

from emulator.core.directives import duration, extract


def test_prompts_without_directives_are_left_alone() -> None:
    assert extract("a [[bracketed]] cat") == ("a [[bracketed]] cat", (), [])


def test_each_directive_becomes_a_rule_and_leaves_the_prompt() -> None:
    clean, rules, warnings = extract(
        "a cat [[emulator:fail=content_policy]] on a mat [[emulator:latency=1.5s;images=2]]"
    )
    assert clean == "a cat on a mat"
    assert warnings == []
    assert [(rule.action, rule.failure, rule.seconds, rule.images) for rule in rules] == [
        ("fail", "content_policy", 0.0, 0),
        ("latency", "provider_error", 1.5, 0),
        ("fewer_images", "provider_error", 0.0, 2),
    ]


def test_error_with_retry_after_and_ranges_and_webhook_delays() -> None:
    _, rules, _ = extract(
        "[[emulator:error=429;retry-after=5s]][[emulator:latency=1s..3s]][[emulator:webhook=delay:500ms]]"
    )
    error, latency, webhook = rules
    assert (error.action, error.status, error.retry_after) == ("error", 429, 5.0)
    assert (latency.seconds, latency.seconds_max) == (1.0, 3.0)
    assert (webhook.webhook, webhook.seconds) == ("delay", 0.5)


def test_bad_directives_are_dropped_with_a_warning() -> None:
    clean, rules, warnings = extract("x [[emulator:teleport=now;stall=finished;latency=soon]]")
    assert clean == "x" and rules == ()
    assert len(warnings) == 3 and all("ignored prompt directive" in warning for warning in warnings)


@pytest.mark.parametrize("text, seconds", [("2s", 2.0), ("500ms", 0.5), ("1m", 60.0), ("3", 3.0), (" 1.25 s ", 1.25)])
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize(
    "block",
    [
        "[[emulator:error=429;retry-after=" + "9" * 400 + "s]]",
        "[[emulator:latency=99999999s]]",
        "[[emulator:images=" + "9" * 50 + "]]",
    ],
)
def test_a_directive_value_beyond_its_bound_is_refused_not_stored(block: str) -> None:
    """Reliability audit R1: a 400-digit retry-after overflowed into a 500 on every surface."""
    clean, rules, warnings = extract(f"a dragon {block}")
    assert clean == "a dragon" and rules == () and len(warnings) == 1
