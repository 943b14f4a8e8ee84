import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Settings, create_app
from emulator.providers.wiro.auth import Project, parse_projects, signature
from emulator.settings import SettingsError
from tests.support import contract_errors

from .conftest import (
    DEV_KEY,
    DEV_SECRET,
    Wiro,
    error_of,
    sign,
    signed_headers,
)

NOT_FOUNDED = (401, 0, "Project authorization is not founded.")
SIGNATURE_REQUIRED = (
    401,
    0,
    "Project requires signature authentication. x-signature and x-nonce headers are required.",
)
NOT_VALID = (401, 0, "Project authorization is not valid.")


def test_signature_matches_the_sheet_test_vector() -> None:
    expected = "0e8b719d1c158c40c2b10415f96c09b794780274f5f9cbaa48d2e723ac07fc3c"
    assert signature("test-key", "test-secret", "1700000000") == expected


async def test_the_test_vector_authenticates_a_configured_project(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("test-key:test-secret",))
    headers = {
        "x-api-key": "test-key",
        "x-nonce": "1700000000",
        "x-signature": "0e8b719d1c158c40c2b10415f96c09b794780274f5f9cbaa48d2e723ac07fc3c",
    }
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"tasktoken": "test"}, headers=headers)
    assert error_of(response) == (200, 1, "There is no task yet.")


async def test_dev_project_works_without_configuration(wiro: Wiro) -> None:
    reply = await wiro.create()
    assert contract_errors("wiro", "runResult", reply) == []


async def test_signature_is_compared_case_insensitively(wiro: Wiro) -> None:
    headers = signed_headers()
    headers["x-signature"] = headers["x-signature"].upper()
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    assert error_of(response) == (200, 1, "There is no task yet.")


@pytest.mark.parametrize("drop", ["x-nonce", "x-signature", "both"])
async def test_missing_signature_headers_are_401(wiro: Wiro, drop: str) -> None:
    headers = signed_headers()
    for name in ("x-nonce", "x-signature") if drop == "both" else (drop,):
        del headers[name]
    response = await wiro.client.post("/wiro/v1/Run/bytedance/seedream-v4", json={"prompt": "x"}, headers=headers)
    assert error_of(response) == SIGNATURE_REQUIRED
    assert contract_errors("wiro", "error", response.json()) == []


@pytest.mark.parametrize("headers", [{}, {"x-api-key": ""}, signed_headers("someone-else", DEV_SECRET)])
async def test_missing_or_unknown_key_is_not_founded(wiro: Wiro, headers: dict) -> None:
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    assert error_of(response) == NOT_FOUNDED


async def test_wrong_secret_is_not_valid(wiro: Wiro) -> None:
    response = await wiro.client.post(
        "/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers(DEV_KEY, "wrong-secret")
    )
    assert error_of(response) == NOT_VALID


async def test_signature_of_another_nonce_is_not_valid(wiro: Wiro) -> None:
    headers = signed_headers(nonce="1700000000")
    headers["x-nonce"] = "1700000001"
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    assert error_of(response) == NOT_VALID


async def test_nonce_reuse_is_refused_by_default(wiro: Wiro) -> None:
    """Signature mode promises "Replay protection: Yes (via nonce)" (authentication.md)."""
    headers = signed_headers(nonce="1700000000")
    first = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    assert error_of(first) == (200, 1, "There is no task yet.")
    again = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    assert error_of(again) == NOT_VALID
    assert contract_errors("wiro", "error", again.json()) == []
    [*_, entry] = wiro.runtime.journal.entries(surface="wiro")
    assert [v["path"] for v in entry.violations] == ["/headers/x-nonce"] and "already used" in entry.violations[0][
        "message"
    ]
    fresh = await wiro.client.post(
        "/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers(nonce="1700000001")
    )
    assert error_of(fresh) == (200, 1, "There is no task yet.")


async def test_a_reused_nonce_is_served_with_a_warning_when_reuse_is_allowed(make_wiro) -> None:
    wiro = await make_wiro(wiro_reject_reused_nonce=False)
    headers = signed_headers(nonce="1700000000")
    for _ in range(2):
        response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
        assert error_of(response) == (200, 1, "There is no task yet.")
    first, second = wiro.runtime.journal.entries(surface="wiro")
    assert first.warnings == []
    [warning] = second.warnings
    assert "x-nonce 1700000000 was already used" in warning and "replay protection" in warning
    assert "wiro_reject_reused_nonce" in warning


def test_the_reuse_setting_defaults_to_refusing() -> None:
    assert Settings().wiro_reject_reused_nonce is True
    assert (
        Settings.load(environ={"SEEDREAM_EMULATOR_WIRO_REJECT_REUSED_NONCE": "false"}).wiro_reject_reused_nonce is False
    )


@pytest.mark.parametrize(
    "nonce",
    ["abc", "17000000.5", "1e9", "0x1F", "+17", "1 700", "9223372036854775808", "-9223372036854775809", "1" * 40],
)
async def test_a_nonce_that_is_not_an_integer_is_not_valid(wiro: Wiro, nonce: str) -> None:
    """The seed: "unix time or any random integer value"; the signature itself is right."""
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers(nonce=nonce))
    assert error_of(response) == NOT_VALID
    [entry] = wiro.runtime.journal.entries(surface="wiro")
    assert entry.violations[0]["path"] == "/headers/x-nonce"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(nonce=st.integers(-(2**63), 2**63 - 1))
async def test_every_64_bit_integer_is_a_nonce(make_wiro, nonce: int) -> None:
    wiro = await make_wiro()
    response = await wiro.client.post(
        "/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers(nonce=str(nonce))
    )
    assert error_of(response) == (200, 1, "There is no task yet.")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    nonce=st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=12).filter(
        lambda text: not text.strip().lstrip("-").isdigit()
    )
)
async def test_no_other_spelling_is_a_nonce(make_wiro, nonce: str) -> None:
    wiro = await make_wiro()
    headers = signed_headers(nonce=nonce)
    try:
        response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    except httpx.LocalProtocolError:  # not even a valid header value
        return
    assert error_of(response)[0] == 401


async def test_nonce_reuse_is_rejected_across_routes(wiro: Wiro) -> None:
    headers = signed_headers(nonce="1700000000")
    run = await wiro.client.post("/wiro/v1/Run/bytedance/seedream-v4", json={"prompt": "x"}, headers=headers)
    assert run.json()["result"] is True
    detail = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": run.json()["taskid"]}, headers=headers)
    assert error_of(detail) == NOT_VALID


async def test_a_failed_signature_does_not_use_up_its_nonce(make_wiro) -> None:
    wiro = await make_wiro()
    bad = signed_headers(DEV_KEY, "wrong", nonce="42")
    assert error_of(await wiro.client.post("/wiro/v1/Task/Detail", json={}, headers=bad)) == NOT_VALID
    good = signed_headers(nonce="42")
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=good)
    assert error_of(response)[2] == "There is no task yet."


async def test_nonce_memory_is_per_project_and_cleared_by_reset(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("a:sa", "b:sb"))
    for key, secret in (("a", "sa"), ("b", "sb")):
        response = await wiro.client.post(
            "/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers(key, secret, "7")
        )
        assert error_of(response)[2] == "There is no task yet."
    await wiro.client.post("/_emulator/reset")
    response = await wiro.client.post(
        "/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers("a", "sa", "7")
    )
    assert error_of(response)[2] == "There is no task yet."


@pytest.mark.parametrize("prefix", ["SHA2-256(stdin)= ", "(stdin)= "])
async def test_openssl_output_is_refused_unless_tolerated(make_wiro, prefix: str) -> None:
    nonce = "1700000000"
    headers = {"x-api-key": DEV_KEY, "x-nonce": nonce, "x-signature": prefix + sign(DEV_KEY, DEV_SECRET, nonce)}
    strict = await make_wiro()
    assert (
        error_of(await strict.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)) == NOT_VALID
    )
    tolerant = await make_wiro(wiro_tolerant_signature=True)
    response = await tolerant.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=headers)
    assert error_of(response)[2] == "There is no task yet."


async def test_key_only_project_needs_only_the_key(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("plain-key:unused:keyonly",), key="plain-key", secret=None)
    reply = await wiro.create()
    assert reply["result"] is True
    # signature headers are ignored in a key-only project, even wrong ones
    response = await wiro.client.post(
        "/wiro/v1/Task/Detail",
        json={"taskid": reply["taskid"]},
        headers={"x-api-key": "plain-key", "x-nonce": "1", "x-signature": "bad"},
    )
    assert response.json()["result"] is True


async def test_configured_projects_replace_the_dev_project(make_wiro) -> None:
    wiro = await make_wiro(wiro_projects=("k1:s1",))
    response = await wiro.client.post("/wiro/v1/Task/Detail", json={"taskid": "1"}, headers=signed_headers())
    assert error_of(response) == NOT_FOUNDED


async def test_journal_masks_the_api_key(wiro: Wiro) -> None:
    await wiro.create()
    [entry] = wiro.runtime.journal.entries(surface="wiro")
    assert entry.api_key == "wiro…" and entry.route == "POST /v1/Run/{owner}/{model}"


def test_projects_are_parsed_with_modes_and_ids() -> None:
    projects = parse_projects(("k1:s1", "k2:s2:keyonly", "k3::keyonly"))
    assert projects == (
        Project("k1", "s1", True, "699"),
        Project("k2", "s2", False, "700"),
        Project("k3", "", False, "701"),
    )
    assert parse_projects(()) == (Project("wiro-dev-key", "wiro-dev-secret", True, "699"),)


@pytest.mark.parametrize("value", ["nokey", "k:s:signature", "k:s:keyonly:extra", ":s", "k:", " k:s", "k1:s1,k1:s2"])
def test_malformed_projects_are_a_clear_settings_error(value: str) -> None:
    with pytest.raises(SettingsError, match="--wiro-project"):
        parse_projects(tuple(value.split(",")))


def test_a_malformed_project_stops_the_app_from_starting() -> None:
    with pytest.raises(SettingsError, match="expected KEY:SECRET or KEY:SECRET:keyonly"):
        create_app(Settings(wiro_projects=("just-a-key",)))


def test_an_unknown_callback_body_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="wiro_callback_body"):
        create_app(Settings(wiro_callback_body="bare"))


def test_projects_come_from_the_environment_too() -> None:
    settings = Settings.load(environ={"SEEDREAM_EMULATOR_WIRO_PROJECTS": "a:b,c:d:keyonly"})
    assert [p.key for p in parse_projects(settings.wiro_projects)] == ["a", "c"]
