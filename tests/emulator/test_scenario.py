"""--scenario FILE: keys, limits, timing and fault rules at start."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from emulator import Settings, create_app
from emulator.settings import SettingsError
from tests.support import inference

SCENARIO = """
timing = "instant"
seed = 4
api_keys = ["ci-key"]

[limits.runware]
requests_per_minute = 100

[[faults]]
action = "error"
surface = "runware"
status = 503
retry_after = 1
times = 2
"""


async def test_toml_scenario_sets_keys_limits_timing_and_faults(tmp_path: Path) -> None:
    path = tmp_path / "flaky.toml"
    path.write_text(SCENARIO)
    app = create_app(Settings.load(scenario=str(path), environ={}))
    emulator = app.state.emulator
    assert (emulator.settings.timing, emulator.settings.seed, emulator.settings.api_keys) == ("instant", 4, ("ci-key",))
    assert emulator.runtime.limits.limits["runware"].requests_per_minute == 100
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        statuses = [
            (
                await client.post("/runware/v1", json=[inference()], headers={"Authorization": "Bearer ci-key"})
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [503, 503, 200]
        wrong_key = await client.post("/runware/v1", json=[inference()], headers={"Authorization": "Bearer other"})
        assert wrong_key.status_code == 401
    await emulator.runtime.aclose()


def test_json_scenarios_work_too(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"faults": [{"action": "latency", "seconds": 1, "surface": "evolink"}]}))
    app = create_app(Settings.load(scenario=str(path), environ={}))
    [rule] = app.state.emulator.faults()
    assert (rule.action, rule.match.surface) == ("latency", "evolink")


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[faults]]\naction = "explode"\n', "faults[0]"),
        ("[limits.nowhere]\nconcurrency = 1\n", "unknown surface"),
        ("[limits.runware]\nconcurrency = 0\n", "limits.runware"),
        ("faults = 3\n", "list of tables"),
        ("not toml at all [", "cannot read"),
    ],
)
def test_bad_scenarios_fail_at_start_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SettingsError, match=re.escape(message)):
        create_app(Settings.load(scenario=str(path), environ={}))
