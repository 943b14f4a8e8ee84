"""One settings object, filled from defaults, an optional TOML file, SEEDREAM_EMULATOR_* and CLI flags."""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

ENV_PREFIX = "SEEDREAM_EMULATOR_"
SURFACE_ORDER = ("runware", "wiro", "evolink", "replicate")
PROVIDERS = tuple(
    name for name in SURFACE_ORDER if (Path(__file__).parent / "providers" / name / "__init__.py").exists()
)


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    provider: str = "all"
    public_url: str | None = None
    timing: Literal["instant", "fast", "realistic"] = "fast"
    seed: int | None = None
    api_keys: tuple[str, ...] = ()
    artifact_ttl: float = 86_400.0
    job_retention: int = 100_000
    max_active_jobs: int = 10_000
    render_cache_mb: int = 256
    realistic_image_sizes: bool = True
    upload_storage_mb: int = 1024
    max_body_mb: int = 64
    journal_size: int = 10_000
    strict: bool = False
    callback_exempt: tuple[
        str, ...
    ] = ()  # URL prefixes served without the production callback rules (the harness's receiver)
    image_count: Literal["prompt", "max"] = (
        "prompt"  # group generations: as many as the prompt asks (capped), or the cap
    )
    tls: bool = False
    tls_dir: str | None = None
    wiro_projects: tuple[str, ...] = ()
    log_level: str = "info"
    scenario: str | None = None
    limits: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, compare=False)
    faults: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    # Runware
    runware_webhook_envelope: Literal["flat", "data"] = "flat"
    runware_strict_sizes: bool = True
    runware_ws_batch_results: bool = False
    runware_partial_replies: Literal["mixed", "errors-only"] = "mixed"
    # Wiro
    wiro_reject_reused_nonce: bool = True
    wiro_tolerant_signature: bool = False
    wiro_callback_body: Literal["detail", "task"] = "detail"
    wiro_socket_welcome: bool = True
    # EvoLink
    evolink_error_codes: Literal["integer", "string"] = "integer"  # error.code: HTTP status, or the newer string code
    evolink_result_ttl: float | None = None  # seconds results stay valid; None: the documented 24 h (contracts/evolink)
    # Replicate
    replicate_file_output: Literal["auto", "data-uri", "url"] = "auto"
    replicate_webhook_secret: str | None = None
    replicate_emit_aborted: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.provider not in ("all", *PROVIDERS):
            raise SettingsError(f"provider must be one of all, {', '.join(PROVIDERS)}; got {self.provider!r}")
        if self.timing not in ("instant", "fast", "realistic"):
            raise SettingsError(f"timing must be instant, fast or realistic; got {self.timing!r}")
        if self.runware_webhook_envelope not in ("flat", "data"):
            raise SettingsError("runware_webhook_envelope must be flat or data")
        if self.runware_partial_replies not in ("mixed", "errors-only"):
            raise SettingsError("runware_partial_replies must be mixed or errors-only")
        if self.wiro_callback_body not in ("detail", "task"):
            raise SettingsError("wiro_callback_body must be detail or task")
        if self.evolink_error_codes not in ("integer", "string"):
            raise SettingsError("evolink_error_codes must be integer or string")
        if self.image_count not in ("prompt", "max"):
            raise SettingsError(f"image_count must be prompt or max; got {self.image_count!r}")
        if self.evolink_result_ttl is not None and not self.evolink_result_ttl > 0:
            raise SettingsError("evolink_result_ttl must be a positive number of seconds")
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            raise SettingsError(f"public_url must start with http:// or https://; got {self.public_url!r}")

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
        return dataclasses.replace(self, **changes)

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


STRUCTURED = ("limits", "faults", "extra")


def _field_types() -> dict[str, Any]:
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in fields(Settings) if f.name not in STRUCTURED}


def _from_file(path: Path) -> dict[str, Any]:
    """A TOML file, or JSON when the name ends in .json."""
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise SettingsError(f"{path} must hold a table of settings")
    known = _field_types()
    values = {key: _coerce(key, known[key], value) for key, value in document.items() if key in known}
    limits, faults = document.get("limits", {}), document.get("faults", [])
    if not isinstance(limits, dict) or not all(isinstance(v, dict) for v in limits.values()):
        raise SettingsError(f"{path}: limits must be tables keyed by surface, e.g. [limits.runware]")
    if not isinstance(faults, list) or not all(isinstance(rule, dict) for rule in faults):
        raise SettingsError(f"{path}: faults must be a list of tables, e.g. [[faults]]")
    values.update(limits=limits, faults=tuple(faults))
    values["extra"] = {key: value for key, value in document.items() if key not in known and key not in STRUCTURED}
    return values


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, kind in _field_types().items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, kind, raw)
    return values


def _coerce(name: str, kind: Any, value: Any) -> Any:
    base = _strip_optional(kind)
    try:
        if base is bool:
            return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
        if base is int:
            return int(value)
        if base is float:
            return float(value)
        if typing.get_origin(base) is tuple:
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(item).strip() for item in items if str(item).strip())
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid value for {name}: {value!r}") from exc


def _strip_optional(kind: Any) -> Any:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return kind
