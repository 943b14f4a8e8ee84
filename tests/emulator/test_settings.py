from pathlib import Path

import pytest

from emulator.settings import Settings, SettingsError


def test_defaults_match_the_public_interface() -> None:
    settings = Settings()
    assert (settings.host, settings.port, settings.provider, settings.timing) == ("127.0.0.1", 8000, "all", "fast")
    assert settings.api_keys == ()
    assert settings.prefix("runware") == "/runware"


def test_one_image_count_setting_serves_every_surface() -> None:
    assert Settings().image_count == "prompt"
    assert Settings.load(environ={"SEEDREAM_EMULATOR_IMAGE_COUNT": "max"}).image_count == "max"
    assert not hasattr(Settings(), "evolink_image_count") and not hasattr(Settings(), "replicate_auto_image_count")


def test_single_provider_is_served_at_the_root() -> None:
    assert Settings(provider="runware").prefix("runware") == ""


def test_precedence_is_toml_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text('port = 9000\ntiming = "realistic"\nseed = 1\napi_keys = ["a", "b"]\n')
    environ = {"SEEDREAM_EMULATOR_TIMING": "instant", "SEEDREAM_EMULATOR_SEED": "2"}
    settings = Settings.load(config_file=config, environ=environ, seed=3)
    assert (settings.port, settings.timing, settings.seed, settings.api_keys) == (9000, "instant", 3, ("a", "b"))


def test_a_setting_file_key_that_is_no_setting_is_named(tmp_path: Path) -> None:
    """A typo must not be ignored silently: the old `extra` bag kept unknown keys and nothing read them."""
    config = tmp_path / "emulator.toml"
    config.write_text('port = 9000\ntimnig = "realistic"\n')
    with pytest.raises(SettingsError, match="unknown setting.*timnig"):
        Settings.load(config_file=config)


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PORT", "eighty", "port"),
        ("STRICT", "maybe", "strict"),
        ("TIMING", "slow", "timing"),
        ("MAX_BODY_MB", "0", "max_body_mb"),
    ],
)
def test_a_bad_environment_value_names_the_setting_and_the_value(variable: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=f"{named}.*{value}"):
        Settings.load(environ={f"SEEDREAM_EMULATOR_{variable}": value})


def test_environment_lists_and_booleans() -> None:
    environ = {"SEEDREAM_EMULATOR_API_KEYS": "k1, k2", "SEEDREAM_EMULATOR_RUNWARE_STRICT_SIZES": "false"}
    settings = Settings.load(environ=environ)
    assert settings.api_keys == ("k1", "k2")
    assert settings.runware_strict_sizes is False


@pytest.mark.parametrize(
    "changes",
    [
        {"provider": "openai"},
        {"timing": "slow"},
        {"public_url": "localhost:8000"},
        {"runware_webhook_envelope": "x"},
        {"image_count": "n"},
    ],
)
def test_invalid_values_are_refused(changes: dict) -> None:
    with pytest.raises(SettingsError):
        Settings(**changes)


def test_unparseable_environment_values_are_refused() -> None:
    with pytest.raises(SettingsError, match="port"):
        Settings.load(environ={"SEEDREAM_EMULATOR_PORT": "eighty"})


def test_unreadable_config_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(SettingsError, match="bad.toml"):
        Settings.load(config_file=bad)
