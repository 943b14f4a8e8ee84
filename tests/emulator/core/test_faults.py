import pytest

from emulator.core.faults import Context, FaultEngine, FaultError, Match, Rule
from emulator.core.jobs import Failure, Plan, State

CONTEXT = Context("runware", "POST /v1", model="bytedance:5@0", job="job-1", prompt="a red kite", api_key="key-a")


def test_every_match_field_must_agree() -> None:
    assert Match().matches(CONTEXT)
    assert Match(
        surface="runware", route="POST *", model="bytedance:5@0", job="job-1", prompt="red", api_key="key-a"
    ).matches(CONTEXT)
    for field, value in [
        ("surface", "wiro"),
        ("route", "GET *"),
        ("model", "x"),
        ("job", "job-2"),
        ("prompt", "blue"),
        ("api_key", "key-b"),
    ]:
        assert not Match(**{field: value}).matches(CONTEXT)


def test_times_fires_on_the_first_matches_only() -> None:
    engine = FaultEngine(seed=1)
    rule = engine.add({"action": "error", "status": 503, "times": 2})
    fired = [bool(engine.request(CONTEXT).error) for _ in range(4)]
    assert fired == [True, True, False, False]
    assert (rule.matched, rule.fired) == (4, 2)


def test_nth_fires_on_that_match_only() -> None:
    engine = FaultEngine(seed=1)
    engine.add({"action": "error", "status": 500, "nth": 3})
    assert [bool(engine.request(CONTEXT).error) for _ in range(5)] == [False, False, True, False, False]


def test_probability_replays_with_the_seed() -> None:
    def run(seed: int) -> list[bool]:
        engine = FaultEngine(seed)
        engine.add({"action": "error", "status": 500, "probability": 0.3})
        return [bool(engine.request(CONTEXT).error) for _ in range(50)]

    assert run(5) == run(5)
    assert run(5) != run(6)
    assert 5 < sum(run(5)) < 25


def test_reset_replays_the_same_timeline() -> None:
    engine = FaultEngine(seed=9)
    engine.add({"action": "latency", "seconds": 1, "seconds_max": 3})
    first = [engine.request(CONTEXT).latency for _ in range(5)]
    engine.reset()
    engine.add({"action": "latency", "seconds": 1, "seconds_max": 3})
    assert [engine.request(CONTEXT).latency for _ in range(5)] == first
    assert all(1 <= value <= 3 for value in first)


def test_latencies_add_up_and_the_first_error_or_disconnect_wins() -> None:
    engine = FaultEngine(seed=1)
    engine.add({"action": "latency", "seconds": 1})
    engine.add({"action": "latency", "seconds": 2})
    engine.add({"action": "error", "status": 429})
    engine.add({"action": "disconnect", "disconnect": "abrupt"})
    decision = engine.request(CONTEXT)
    assert decision.latency == 3
    assert decision.error is not None and decision.error.status == 429
    assert decision.disconnect is None


def test_job_rules_change_the_plan() -> None:
    engine = FaultEngine(seed=1)
    plan = Plan(1.0, (1.0, 2.0, 3.0))
    engine.add({"action": "fewer_images", "images": 1})
    engine.add({"action": "fail", "failure": "content_policy", "message": "nope", "prompt": "kite"})
    changed = engine.plan(plan, CONTEXT)
    assert changed.output_offsets == (1.0,)
    assert changed.failure == Failure("content_policy", "nope")
    engine.reset()
    engine.add({"action": "stall", "state": "queued"})
    assert engine.plan(plan, CONTEXT).stall_in is State.QUEUED


def test_directives_fire_before_rules_and_only_for_their_request() -> None:
    engine = FaultEngine(seed=1)
    directive = Rule("error", status=418)
    assert engine.request(Context("runware", directives=(directive,))).error is directive
    assert engine.request(CONTEXT).error is None


def test_rules_round_trip_through_dicts() -> None:
    rule = Rule.from_dict(
        {"action": "error", "status": 503, "retry_after": 2, "surface": "evolink", "match": {"prompt": "x"}}
    )
    assert rule.match == Match(surface="evolink", prompt="x")
    again = Rule.from_dict({key: value for key, value in rule.as_dict().items() if key not in ("matched", "fired")})
    assert again.match == rule.match and again.retry_after == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"action": "explode"},
        {"action": "error", "status": 200},
        {"action": "disconnect", "disconnect": "politely"},
        {"action": "webhook", "webhook": "lose"},
        {"action": "stall", "state": "succeeded"},
        {"action": "error", "probability": 2},
        {"action": "error", "times": 0},
        {"action": "latency", "seconds": 5, "seconds_max": 1},
        {"action": "error", "colour": "red"},
        {"action": "error", "match": {"colour": "red"}},
        {"action": "error", "status": "loud"},
    ],
)
def test_bad_rules_are_refused_with_a_reason(fields: dict) -> None:
    with pytest.raises(FaultError):
        Rule.from_dict(fields)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"action": "error", "status": 429, "retry_after": 1e308}, "retry_after"),
        ({"action": "error", "status": 429, "retry_after": float("inf")}, "retry_after"),
        ({"action": "latency", "seconds": float("nan")}, "seconds"),
        ({"action": "latency", "seconds": -1}, "seconds"),
        ({"action": "latency", "seconds": 1, "seconds_max": 1e400}, "seconds_max"),
        ({"action": "webhook", "webhook": "delay", "seconds": 10**9}, "seconds"),
        ({"action": "error", "status": "429"}, "status"),
        ({"action": "fewer_images", "images": 2.5}, "images"),
        ({"action": "error", "times": 10**30}, "times"),
        ({"action": "error", "message": "x" * 5000}, "message"),
    ],
)
def test_values_that_cannot_be_represented_are_refused_naming_the_field(fields: dict, named: str) -> None:
    """Reliability audit R1/R2: such a rule used to be stored and turn every later reply into a 500."""
    with pytest.raises(FaultError, match=named):
        Rule.from_dict(fields)
