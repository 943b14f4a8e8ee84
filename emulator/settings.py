"""One settings object, filled from defaults, an optional TOML file, SEEDREAM_EMULATOR_* and CLI flags.

Pydantic (already here through FastAPI) checks and coerces every value once, from its type. Its companion
pydantic-settings is not used: its sources read the process environment and fixed file paths, while the
emulator takes a settings file and a scenario per call and tests pass an environment of their own.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from contracts.counts import Mode
from contracts.surfaces import SURFACES

from .core.timing import Timing

ENV_PREFIX = "SEEDREAM_EMULATOR_"
PROVIDERS = tuple(name for name in SURFACES if (Path(__file__).parent / "providers" / name / "__init__.py").exists())


class SettingsError(ValueError):
    pass


# Lists arrive from the environment as "a, b" and from TOML as arrays.
Names = Annotated[tuple[str, ...], BeforeValidator(lambda value: _split(value))]


class Settings(BaseModel):
    """Every setting of one emulator. The types are the validation: a wrong value is a SettingsError naming it."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    provider: str = "all"
    public_url: str | None = Field(None, pattern=r"^https?://", description="base of the URLs handed out")
    timing: Timing = "fast"
    seed: int | None = None
    api_keys: Names = Field((), description="the only keys accepted; empty accepts any non-empty key")
    artifact_ttl: float = Field(86_400.0, gt=0)
    job_retention: int = Field(100_000, ge=1)
    max_active_jobs: int = Field(10_000, ge=1)
    # Enough for a client's second download of what it just made (ten 4K JPEGs at their real size); every image
    # renders again, identically, once it has left the cache.
    render_cache_mb: int = Field(64, ge=0)
    realistic_image_sizes: bool = True
    upload_storage_mb: int = Field(1024, ge=0)
    max_body_mb: int = Field(64, ge=1)
    journal_size: int = Field(10_000, ge=1)
    strict: bool = Field(False, description="refuse exactly what the real providers refuse")
    callback_exempt: Names = Field((), description="URL prefixes served without the production callback rules")
    image_count: Mode = Field("prompt", description="group generations: as many as the prompt asks, or the cap")
    control_token: str | None = Field(None, min_length=1, description="required by every control request when set")
    control_hosts: Names = Field((), description="host names the control plane answers besides loopback")
    tls: bool = False
    tls_dir: str | None = None
    state: str | None = Field(
        None, min_length=1, description="a directory where accepted work is kept across restarts; unset: in memory"
    )
    wiro_projects: Names = ()
    log_level: str = "info"
    scenario: str | None = None
    replay: str | None = Field(
        None, min_length=1, description="a cassette whose recorded replies answer matching requests"
    )
    limits: dict[str, dict[str, Any]] = Field(default_factory=dict)
    faults: tuple[dict[str, Any], ...] = ()
    runware_webhook_envelope: Literal["flat", "data"] = "flat"
    runware_strict_sizes: bool = True
    runware_ws_batch_results: bool = False
    runware_partial_replies: Literal["mixed", "errors-only"] = "mixed"
    wiro_reject_reused_nonce: bool = True
    wiro_tolerant_signature: bool = False
    wiro_callback_body: Literal["detail", "task"] = "detail"
    wiro_socket_welcome: bool = True
    evolink_error_codes: Literal["integer", "string"] = Field(
        "integer", description="error.code: the HTTP status, or the newer string code"
    )
    evolink_result_ttl: float | None = Field(
        None, gt=0, description="seconds results stay valid; unset: the documented 24 h (contracts/evolink)"
    )
    replicate_file_output: Literal["auto", "data-uri", "url"] = "auto"
    replicate_webhook_secret: str | None = None
    replicate_emit_aborted: bool = False

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(_explained(exc)) from None

    @field_validator("state")
    @classmethod
    def _usable_directory(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Path(value).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ValueError(f"cannot use {value!r} as a state directory: {exc.strerror}") from None
        return value

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in ("all", *PROVIDERS):
            raise ValueError(f"must be one of all, {', '.join(PROVIDERS)}")
        return value

    @property
    def max_body_bytes(self) -> int:
        return self.max_body_mb * 2**20

    @property
    def providers(self) -> tuple[str, ...]:
        return PROVIDERS if self.provider == "all" else (self.provider,)

    def prefix(self, provider: str) -> str:
        """Where a surface is mounted: under its name when all are served, else at the root."""
        return f"/{provider}" if self.provider == "all" else ""

    def replace(self, **changes: Any) -> Settings:
        return Settings(**{**self.model_dump(), **changes})

    @classmethod
    def load(
        cls,
        *,
        config_file: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> Settings:
        """Defaults, then the settings file, then a scenario file, then the environment, then explicit
        overrides (CLI flags). A scenario is a settings file (TOML or JSON) that may also hold `[limits.<surface>]`
        tables and a `[[faults]]` list of fault rules."""
        values: dict[str, Any] = {}
        if config_file is not None:
            values.update(_from_file(Path(config_file)))
        scenario = overrides.get("scenario") or (environ or os.environ).get(ENV_PREFIX + "SCENARIO")
        if scenario:
            values.update(_from_file(Path(scenario)))
        values.update(_from_env(os.environ if environ is None else environ))
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


STRUCTURED = ("limits", "faults")


def _from_file(path: Path) -> dict[str, Any]:
    """A TOML file, or JSON when the name ends in .json; a key that is not a setting is an error."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise SettingsError(f"{path} must hold a table of settings")
    unknown = sorted(set(document) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(f"{path}: unknown setting(s) {', '.join(unknown)}")
    limits, faults = document.get("limits", {}), document.get("faults", [])
    if not isinstance(limits, dict) or not all(isinstance(v, dict) for v in limits.values()):
        raise SettingsError(f"{path}: limits must be tables keyed by surface, e.g. [limits.runware]")
    if not isinstance(faults, list) or not all(isinstance(rule, dict) for rule in faults):
        raise SettingsError(f"{path}: faults must be a list of tables, e.g. [[faults]]")
    return document


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    names = (name for name in Settings.model_fields if name not in STRUCTURED)
    return {name: environ[ENV_PREFIX + name.upper()] for name in names if environ.get(ENV_PREFIX + name.upper())}


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _explained(error: ValidationError) -> str:
    """Pydantic's report as one line per bad setting: its name, the value given and what it must be."""
    lines = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]) or "settings"
        given = f"; got {problem['input']!r}" if "input" in problem and not isinstance(problem["input"], dict) else ""
        lines.append(f"{name}: {problem['msg']}{given}")
    return "; ".join(lines)
