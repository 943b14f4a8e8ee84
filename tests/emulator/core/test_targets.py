"""Callback targets: production's rule (HTTPS, no internal hosts) warns when lenient, refuses when strict."""

from __future__ import annotations

import pytest

from emulator.core.targets import TargetPolicy

BAD = {
    "http://example.com/hook": {"scheme"},
    "https://127.1/hook": {"internal"},
    "https://0x7f000001/hook": {"internal"},
    "https://metadata.google.internal/computeMetadata": {"internal"},
    "http://[::ffff:127.0.0.1]:9000/h": {"scheme", "internal"},
    "https:///nohost": {"malformed"},
}


@pytest.mark.parametrize(("url", "kinds"), BAD.items())
def test_production_objects_to_plain_http_and_internal_targets(url: str, kinds: set[str]) -> None:
    assert {problem.kind for problem in TargetPolicy().problems(url)} == kinds


def test_lenient_mode_serves_with_a_warning_and_strict_mode_refuses() -> None:
    lenient, strict = TargetPolicy(strict=False), TargetPolicy(strict=True)
    url = "http://127.0.0.1:9000/hook"
    assert lenient.refused(url) == [] and len(lenient.warnings(url)) == 2
    assert "production refuses it" in lenient.warnings(url)[0]
    assert [problem.kind for problem in strict.refused(url)] == ["scheme", "internal"] and strict.warnings(url) == []


def test_a_public_https_target_is_fine_in_both_modes() -> None:
    for policy in (TargetPolicy(), TargetPolicy(strict=True)):
        assert policy.problems("https://hooks.example.com/seedream") == []


def test_only_exempt_prefixes_escape_the_rule() -> None:
    policy = TargetPolicy(strict=True, exempt=["http://127.0.0.1:4100/hooks"])
    assert policy.refused("http://127.0.0.1:4100/hooks") == []
    assert policy.refused("http://127.0.0.1:4101/hooks") != []
