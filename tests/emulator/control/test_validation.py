"""Control-plane bodies are validated, and a bad one is a 422 naming the field, never a 500 (reliability audit R4:
`PUT /_emulator/limits/evolink {"requests_per_minute": {"\\u0000": 1e400}}` answered 500)."""

from __future__ import annotations

import pytest

from tests.conftest import Emulator

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"requests_per_minute": {"\\u0000": 1e400}}', "requests_per_minute"),
        (b'{"\\u0000": 1e400}', "\\u0000"),
        (b'{"requests_per_minute": 1e400}', "requests_per_minute"),
        (b'{"requests_per_minute": -1e400}', "requests_per_minute"),
        (b'{"requests_per_minute": NaN}', "requests_per_minute"),
        (b'{"concurrency": Infinity}', "concurrency"),
        (b'{"concurrency": ' + b"9" * 400 + b"}", "concurrency"),
        (b'{"concurrency": 2.5}', "concurrency"),
        (b'{"concurrency": "3"}', "concurrency"),
        (b'{"concurrency": true}', "concurrency"),
        (b'{"concurrency": 0}', "concurrency"),
        (b'{"burst": 3}', "burst"),
        (b"[]", "body"),
        (b'"x"', "body"),
    ],
)
async def test_a_limits_body_out_of_bounds_is_422_naming_the_field(emulator: Emulator, body: bytes, field: str) -> None:
    response = await emulator.client.put("/_emulator/limits/evolink", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert (await emulator.client.get("/_emulator/limits")).json() == {}


async def test_limits_within_bounds_are_set_and_null_is_unlimited(emulator: Emulator) -> None:
    response = await emulator.client.put(
        "/_emulator/limits/evolink", json={"requests_per_minute": 1_000_000, "concurrency": None}
    )
    assert response.status_code == 200
    assert response.json() == {"requests_per_minute": 1_000_000, "concurrency": None}
    assert (await emulator.client.put("/_emulator/limits/evolink", json={})).json() == {
        "requests_per_minute": None,
        "concurrency": None,
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "error", "status": 429, "retry_after": 1e400}',
        b'{"action": "latency", "seconds": NaN}',
        b'{"action": "error", "status": 1e400}',
        b'{"action": "error", "status": ' + b"9" * 400 + b"}",
    ],
)
async def test_fault_rules_with_unrepresentable_values_are_422(emulator: Emulator, body: bytes) -> None:
    response = await emulator.client.post("/_emulator/faults", content=body, headers=JSON)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("path", ["/_emulator/policy", "/_emulator/limits/runware"])
async def test_any_body_a_validator_echoes_renders(emulator: Emulator, path: str) -> None:
    """FastAPI's own 422 handler echoes the input and cannot render an infinity; the control plane's can."""
    response = await emulator.client.put(path, content=b'{"strict": 1e400, "concurrency": 1e400}', headers=JSON)
    assert response.status_code == 422
    assert "inf" in response.text
